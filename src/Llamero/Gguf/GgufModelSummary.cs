namespace Llamero.Gguf;

/// <summary>
/// Size facts of a model read from its GGUF header: parameter count, bits per weight, and the memory it takes to run
/// at a context length (weights plus KV cache), like a model card's "Max RAM required" column.
/// </summary>
public sealed class GgufModelSummary
{
    private GgufModelSummary(GgufFile file)
    {
        Architecture = file.GetOrDefault(GgufKeys.General.Architecture, "");
        ParameterCount = file.Tensors.Sum(t => t.ElementCount);
        WeightBytes = file.Tensors.Sum(t => t.ByteSize);
        var arch = Architecture;
        LayerCount = file.GetOrDefault(GgufKeys.Arch.BlockCount(arch), 0L);
        ContextLength = file.GetOrDefault(GgufKeys.Arch.ContextLength(arch), 0L);
        var embedding = file.GetOrDefault(GgufKeys.Arch.EmbeddingLength(arch), 0L);
        var heads = file.GetOrDefault(GgufKeys.Arch.HeadCount(arch), 0L);
        var kvHeads = file.GetOrDefault(GgufKeys.Arch.HeadCountKv(arch), heads);
        var keyLength = file.GetOrDefault(GgufKeys.Arch.KeyLength(arch), heads > 0 ? embedding / heads : 0L);
        var valueLength = file.GetOrDefault(GgufKeys.Arch.ValueLength(arch), keyLength);
        KeyWidth = keyLength * kvHeads;
        ValueWidth = valueLength * kvHeads;
    }

    /// <summary><c>general.architecture</c> ("" when absent).</summary>
    public string Architecture { get; }

    /// <summary>Elements over every tensor.</summary>
    public long ParameterCount { get; }

    /// <summary>Bytes of tensor data.</summary>
    public long WeightBytes { get; }

    /// <summary>Average storage bits per parameter.</summary>
    public double BitsPerWeight => ParameterCount == 0 ? 0 : WeightBytes * 8.0 / ParameterCount;

    /// <summary>Transformer layers (<c>{arch}.block_count</c>), 0 when unknown.</summary>
    public long LayerCount { get; }

    /// <summary>Training context (<c>{arch}.context_length</c>), 0 when unknown.</summary>
    public long ContextLength { get; }

    /// <summary>Width of the K cache per token and layer: key length times KV heads (llama.cpp's n_embd_k_gqa).</summary>
    public long KeyWidth { get; }

    /// <summary>Width of the V cache per token and layer (n_embd_v_gqa).</summary>
    public long ValueWidth { get; }

    /// <summary>Reads the summary from an open file.</summary>
    public static GgufModelSummary Of(GgufFile file) => new(file);

    /// <summary>KV cache bytes at <paramref name="context"/> tokens with <paramref name="bytesPerElement"/> per cached value (F16: 2, F32: 4).</summary>
    public long KvCacheBytes(long context, int bytesPerElement) => LayerCount * context * (KeyWidth + ValueWidth) * bytesPerElement;

    /// <summary>Weights plus KV cache at <paramref name="context"/> tokens (excluding activations and runtime overhead).</summary>
    public long MemoryToRun(long context, int kvBytesPerElement) => WeightBytes + KvCacheBytes(context, kvBytesPerElement);
}
