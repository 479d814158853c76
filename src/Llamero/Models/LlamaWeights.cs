using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Models;

/// <summary>The weights of one transformer layer: views into the mapped file (or repacked copies), norms copied to float.</summary>
public sealed class LlamaLayerWeights
{
    /// <summary>attn_norm (dim).</summary>
    public required float[] AttentionNorm { get; init; }
    /// <summary>attn_q (queryLength x dim).</summary>
    public required WeightMatrix Query { get; init; }
    /// <summary>attn_k (kvLength x dim).</summary>
    public required WeightMatrix Key { get; init; }
    /// <summary>attn_v (kvLength x dim).</summary>
    public required WeightMatrix Value { get; init; }
    /// <summary>attn_output (dim x queryLength).</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>ffn_norm (dim).</summary>
    public required float[] FeedForwardNorm { get; init; }
    /// <summary>ffn_gate (ffn x dim).</summary>
    public required WeightMatrix Gate { get; init; }
    /// <summary>ffn_up (ffn x dim).</summary>
    public required WeightMatrix Up { get; init; }
    /// <summary>ffn_down (dim x ffn).</summary>
    public required WeightMatrix Down { get; init; }
}

/// <summary>
/// Every weight of a Llama model, checked against the hyper-parameters. Matrices are <see cref="WeightMatrix"/> views
/// into the memory-mapped GGUF file (valid while the file is open); norm vectors are small and copied to float.
/// Shapes are written (rows x cols) = (output features x input features); GGUF stores them as [cols, rows].
/// </summary>
public sealed class LlamaWeights
{
    /// <summary>token_embd (vocab x dim); rows are dequantized on lookup.</summary>
    public required WeightMatrix TokenEmbedding { get; init; }
    /// <summary>The layers, first to last.</summary>
    public required IReadOnlyList<LlamaLayerWeights> Layers { get; init; }
    /// <summary>output_norm (dim).</summary>
    public required float[] OutputNorm { get; init; }
    /// <summary>output (vocab x dim), or token_embd when the model ties them.</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>rope_freqs (headSize/2), Llama 3.1's per-frequency divisors, or null.</summary>
    public float[]? RopeFrequencyFactors { get; init; }

    /// <summary>
    /// Binds and checks every tensor the forward pass reads. With <paramref name="repacked"/>, the matrices only ever
    /// multiplied (not the token embedding, whose rows are looked up) are repacked into their format's interleaved
    /// layout where it has one, and their mapped pages released; <paramref name="repackedTensor"/> hears of each as its
    /// copy completes (from the repacking workers, concurrently).
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing or its shape contradicts <paramref name="config"/> (named).</exception>
    /// <exception cref="NotSupportedException">A tensor's type is not computed yet (named).</exception>
    public static LlamaWeights FromGguf(GgufFile file, LlamaConfig config, RepackedWeights? repacked = null, Action<GgufTensorInfo>? repackedTensor = null)
    {
        var dim = config.EmbeddingLength;
        var binder = new Binder(file);
        var layers = new LlamaLayerWeights[config.BlockCount];
        for (var l = 0; l < layers.Length; l++)
        {
            var p = $"blk.{l}.";
            layers[l] = new LlamaLayerWeights
            {
                AttentionNorm = binder.Vector(p + "attn_norm.weight", dim),
                Query = binder.Multiplied(p + "attn_q.weight", config.QueryLength, dim),
                Key = binder.Multiplied(p + "attn_k.weight", config.KvLength, dim),
                Value = binder.Multiplied(p + "attn_v.weight", config.KvLength, dim),
                Output = binder.Multiplied(p + "attn_output.weight", dim, config.QueryLength),
                FeedForwardNorm = binder.Vector(p + "ffn_norm.weight", dim),
                Gate = binder.Multiplied(p + "ffn_gate.weight", config.FeedForwardLength, dim),
                Up = binder.Multiplied(p + "ffn_up.weight", config.FeedForwardLength, dim),
                Down = binder.Multiplied(p + "ffn_down.weight", dim, config.FeedForwardLength),
            };
        }
        var embedding = binder.Matrix("token_embd.weight", config.VocabSize, dim);
        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = binder.Vector("output_norm.weight", dim),
            Output = file.TryGetTensor("output.weight", out _) ? binder.Multiplied("output.weight", config.VocabSize, dim) : embedding,
            RopeFrequencyFactors = file.TryGetTensor("rope_freqs.weight", out _) ? binder.Vector("rope_freqs.weight", config.Rope.Dimensions / 2) : null,
        };
        return repacked is null ? weights : weights.Repack(file, binder.MultipliedTensors, repacked, repackedTensor);
    }

    // Every shape is checked before anything is copied; then all multiplied matrices are packed in one pass, and their
    // mapped pages released chunk by chunk as the copy proceeds.
    private LlamaWeights Repack(GgufFile file, List<(GgufTensorInfo Info, WeightMatrix Matrix)> multiplied, RepackedWeights repacked,
        Action<GgufTensorInfo>? repackedTensor)
    {
        // Each chunk's pages go as soon as it is packed, so the file adds at most a chunk per worker to the resident copy;
        // a matrix's last release catches the pages its chunks shared at their edges.
        var packed = repacked.RepackAll([.. multiplied.Select(m => m.Matrix)], i =>
        {
            file.ReleaseTensorPages(multiplied[i].Info);
            repackedTensor?.Invoke(multiplied[i].Info);
        }, (i, offset, length) => file.ReleaseTensorPages(multiplied[i].Info, offset, length));
        var byData = new Dictionary<nint, WeightMatrix>();
        for (var i = 0; i < packed.Length; i++)
            byData[multiplied[i].Matrix.Data] = packed[i];
        WeightMatrix Swap(WeightMatrix m) => byData.GetValueOrDefault(m.Data, m);
        return new LlamaWeights
        {
            TokenEmbedding = TokenEmbedding,
            Layers = [.. Layers.Select(l => new LlamaLayerWeights
            {
                AttentionNorm = l.AttentionNorm,
                Query = Swap(l.Query),
                Key = Swap(l.Key),
                Value = Swap(l.Value),
                Output = Swap(l.Output),
                FeedForwardNorm = l.FeedForwardNorm,
                Gate = Swap(l.Gate),
                Up = Swap(l.Up),
                Down = Swap(l.Down),
            })],
            OutputNorm = OutputNorm,
            Output = Swap(Output),
            RopeFrequencyFactors = RopeFrequencyFactors,
        };
    }

    /// <summary>Writes the embedding of <paramref name="token"/> (dim floats) into <paramref name="destination"/>.</summary>
    public void Embed(int token, Span<float> destination)
    {
        var e = TokenEmbedding;
        if ((uint)token >= (uint)e.Rows)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token id {token} is outside the vocabulary (0..{e.Rows - 1}).");
        QuantFormats.Get(e.Type).Dequantize(e.Row(token), destination[..e.Cols]);
    }

    private sealed class Binder(GgufFile file)
    {
        private readonly string _name = Path.GetFileName(file.Path);

        /// <summary>The matrices bound with <see cref="Multiplied"/>, in binding order.</summary>
        public List<(GgufTensorInfo Info, WeightMatrix Matrix)> MultipliedTensors { get; } = [];

        private GgufTensorInfo Find(string tensor, params long[] shape)
        {
            if (!file.TryGetTensor(tensor, out var info))
                throw new InvalidDataException($"{_name}: tensor '{tensor}' is missing.");
            var dims = info.Dimensions;
            var match = dims.Length >= shape.Length;
            for (var i = 0; i < dims.Length && match; i++)
                match = dims[i] == (i < shape.Length ? shape[i] : 1);
            if (!match)
                throw new InvalidDataException(
                    $"{_name}: tensor '{tensor}' has shape [{string.Join(", ", dims)}] but the hyper-parameters say [{string.Join(", ", shape)}].");
            if (!QuantFormats.IsSupported(info.Type))
                throw new NotSupportedException($"{_name}: tensor '{tensor}' is {GgmlTypes.NameOf(info.Type)}, which Llamero does not compute yet.");
            return info;
        }

        public WeightMatrix Matrix(string tensor, int rows, int cols)
        {
            var info = Find(tensor, cols, rows);
            if (cols % GgmlTypes.Get(info.Type).BlockSize != 0)
                throw new InvalidDataException($"{_name}: tensor '{tensor}' rows of {cols} are not whole {GgmlTypes.NameOf(info.Type)} blocks.");
            return new WeightMatrix(info.Type, file.GetTensorPointer(info), rows, cols);
        }

        // A matrix the forward pass only multiplies by (never looks a row up in): the loader may repack it.
        public WeightMatrix Multiplied(string tensor, int rows, int cols)
        {
            var plain = Matrix(tensor, rows, cols);
            MultipliedTensors.Add((file.GetTensor(tensor), plain));
            return plain;
        }

        public float[] Vector(string tensor, int length)
        {
            var info = Find(tensor, length);
            var values = new float[length];
            QuantFormats.Get(info.Type).Dequantize(file.GetTensorData(info), values);
            return values;
        }
    }
}
