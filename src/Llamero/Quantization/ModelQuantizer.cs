using System.Globalization;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Quantization;

/// <summary>Options of <see cref="ModelQuantizer.Quantize"/>.</summary>
/// <param name="Threads">Threads that quantize rows (default: all cores).</param>
/// <param name="Pure">Every quantizable tensor gets the mix's default type (llama-quantize --pure).</param>
/// <param name="AllowRequantize">Accept already-quantized input tensors (dequantized first, losing precision twice).</param>
public sealed record QuantizeOptions(int Threads = 0, bool Pure = false, bool AllowRequantize = false);

/// <summary>What a quantization wrote.</summary>
public sealed record QuantizeResult(int TensorCount, int QuantizedCount, long InputBytes, long OutputBytes, IReadOnlyList<string> Fallbacks);

/// <summary>
/// <c>llamero quantize</c>: rewrites a GGUF model with another tensor type mix, choosing each tensor's type as
/// llama-quantize does (<see cref="TensorTypeChooser"/>) and quantizing rows with the reference quantizers,
/// so every tensor is byte-identical to llama.cpp's output. Metadata is copied (split keys dropped),
/// general.quantization_version and general.file_type set last, tensors written in llama.cpp's order.
/// The output appears only when complete (<see cref="GgufWriter"/> writes a temporary file and renames it).
/// </summary>
public static class ModelQuantizer
{
    /// <summary>ggml's GGML_QNT_VERSION.</summary>
    public const uint QuantizationVersion = 2;

    // Source floats converted per step: bounds memory on 70B tensors (output.weight is 1 GB of F32).
    private const long ChunkElements = 1 << 24;

    /// <summary>Quantizes <paramref name="input"/> into <paramref name="output"/>; progress lines go to <paramref name="log"/>.</summary>
    public static QuantizeResult Quantize(string input, string output, QuantizationMix mix, QuantizeOptions options, TextWriter? log = null)
    {
        using var source = GgufFile.Open(input);
        if (Path.GetFullPath(output) == Path.GetFullPath(input))
            throw new ArgumentException("The output file must differ from the input file.");
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var chooser = new TensorTypeChooser(mix, ModelFacts.Of(source));
        var tensors = source.Tensors.OrderBy(t => t.Name, TensorTypeChooser.LlamaOrder).ToList();

        // Decide every tensor's type first: the header lists them all before any data.
        var plan = tensors.Select(t => (Tensor: t, Type: TargetType(t, chooser, mix, options))).ToList();

        using var writer = new GgufWriter(output);
        writer.AddMetadata(source.Metadata.Where(kv => kv.Key is not (GgufKeys.Split.No or GgufKeys.Split.Count
            or GgufKeys.Split.TensorsCount or GgufKeys.General.QuantizationVersion or GgufKeys.General.FileType)));
        writer.AddMetadata(GgufKeyValue.Of(GgufKeys.General.QuantizationVersion, QuantizationVersion));
        writer.AddMetadata(GgufKeyValue.Of(GgufKeys.General.FileType, mix.FileType));
        foreach (var (t, type) in plan)
            writer.AddTensor(t.Name, type, t.Dimensions);

        long inBytes = 0, outBytes = 0;
        var quantized = 0;
        for (var i = 0; i < plan.Count; i++)
        {
            var (t, type) = plan[i];
            var outSize = writer.Tensors[i].ByteSize;
            if (type == t.Type)
                writer.WriteTensorData(source, t);
            else
            {
                Convert(source, t, type, writer, threads);
                quantized++;
            }
            inBytes += t.ByteSize;
            outBytes += outSize;
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{i + 1,4}/{plan.Count}] {t.Name,-32} {t.ShapeText,-18} {t.TypeName,-5} -> {GgmlTypes.NameOf(type),-5} {Mib(t.ByteSize),9:F2} MiB -> {Mib(outSize),8:F2} MiB"));
        }
        writer.Commit();
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mix.Name}: {quantized} of {plan.Count} tensors converted, {Mib(inBytes):F2} MiB -> {Mib(outBytes):F2} MiB"));
        if (chooser.Fallbacks.Count > 0)
            log?.WriteLine($"{chooser.Fallbacks.Count} tensor(s) fell back to another type: {string.Join("; ", chooser.Fallbacks)}");
        return new QuantizeResult(plan.Count, quantized, inBytes, outBytes, chooser.Fallbacks);
    }

    private static double Mib(long bytes) => bytes / 1048576.0;

    private static GgmlType TargetType(GgufTensorInfo t, TensorTypeChooser chooser, QuantizationMix mix, QuantizeOptions options)
    {
        if (!TensorTypeChooser.IsQuantizable(t.Name, t.Dimensions))
            return t.Type;
        var type = chooser.Choose(t.Name, t.Dimensions, options.Pure);
        if (type == t.Type)
            return type;
        if (!QuantFormats.IsSupported(type) || !QuantFormats.IsSupported(t.Type))
            throw new InvalidOperationException(
                $"Tensor {t.Name}: converting {t.TypeName} to {GgmlTypes.NameOf(type)} is not supported yet ({mix.Name}).");
        if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16) && !options.AllowRequantize)
            throw new InvalidOperationException(
                $"Tensor {t.Name} is already {t.TypeName}: requantizing loses precision twice; pass --allow-requantize to do it anyway.");
        if (t.RowLength % GgmlTypes.Get(type).BlockSize != 0)
            throw new InvalidOperationException(
                $"Tensor {t.Name}: rows of {t.RowLength} elements are not a multiple of the {GgmlTypes.NameOf(type)} block size {GgmlTypes.Get(type).BlockSize}.");
        return type;
    }

    /// <summary>Dequantizes (if needed) and quantizes a tensor in chunks of whole rows, rows spread over threads.</summary>
    private static unsafe void Convert(GgufFile source, GgufTensorInfo t, GgmlType type, GgufWriter writer, int threads)
    {
        var data = source.GetTensorPointer(t); // tensors may pass 2 GB: index rows from the pointer
        var from = QuantFormats.Get(t.Type);
        var to = QuantFormats.Get(type);
        var rowLength = checked((int)t.RowLength);
        var rows = t.ElementCount / rowLength;
        var inRowBytes = from.Traits.RowBytes(rowLength);
        var outRowBytes = to.Traits.RowBytes(rowLength);
        var rowsPerChunk = (int)Math.Max(1, Math.Min(rows, ChunkElements / rowLength));
        var floats = new float[(long)rowsPerChunk * rowLength];
        var bytes = new byte[rowsPerChunk * outRowBytes];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
        for (long r0 = 0; r0 < rows; r0 += rowsPerChunk)
        {
            var n = (int)Math.Min(rowsPerChunk, rows - r0);
            var first = r0;
            Parallel.For(0, n, parallel, r =>
            {
                var src = new ReadOnlySpan<byte>((byte*)data + (first + r) * inRowBytes, (int)inRowBytes);
                var row = floats.AsSpan(r * rowLength, rowLength);
                from.Dequantize(src, row);
                to.Quantize(row, bytes.AsSpan((int)(r * outRowBytes), (int)outRowBytes));
            });
            writer.WriteTensorData(bytes.AsSpan(0, (int)(n * outRowBytes)));
        }
    }
}
