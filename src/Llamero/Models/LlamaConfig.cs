using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>
/// The hyper-parameters of a Llama-family model, read from GGUF keys by name as llama.cpp reads them
/// (<c>{arch}.embedding_length</c>, <c>{arch}.attention.head_count_kv</c>, ...).
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Architectures whose GGUF files this forward pass runs.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = ["llama"];

    /// <summary><c>general.architecture</c>.</summary>
    public required string Architecture { get; init; }
    /// <summary>Width of the residual stream (<c>embedding_length</c>, "dim").</summary>
    public required int EmbeddingLength { get; init; }
    /// <summary>Transformer layers (<c>block_count</c>).</summary>
    public required int BlockCount { get; init; }
    /// <summary>Hidden width of the SwiGLU feed-forward (<c>feed_forward_length</c>).</summary>
    public required int FeedForwardLength { get; init; }
    /// <summary>Query heads (<c>attention.head_count</c>).</summary>
    public required int HeadCount { get; init; }
    /// <summary>Key/value heads (<c>attention.head_count_kv</c>, default <see cref="HeadCount"/>); each serves
    /// HeadCount / KvHeadCount query heads.</summary>
    public required int KvHeadCount { get; init; }
    /// <summary>Floats per head (<c>attention.key_length</c>, default EmbeddingLength / HeadCount).</summary>
    public required int HeadSize { get; init; }
    /// <summary>RMSNorm epsilon (<c>attention.layer_norm_rms_epsilon</c>).</summary>
    public required float RmsEpsilon { get; init; }
    /// <summary>Context the model was trained with (<c>context_length</c>).</summary>
    public required int ContextLength { get; init; }
    /// <summary>Vocabulary size (the length of <c>tokenizer.ggml.tokens</c>).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Rotary position embedding parameters.</summary>
    public required RopeParameters Rope { get; init; }

    /// <summary>Width of all query heads together.</summary>
    public int QueryLength => HeadCount * HeadSize;
    /// <summary>Width of all key (or value) heads together: one cached row per position.</summary>
    public int KvLength => KvHeadCount * HeadSize;

    /// <summary>Reads and checks the hyper-parameters of <paramref name="file"/>.</summary>
    /// <exception cref="NotSupportedException">The architecture or RoPE scaling type is not one Llamero runs.</exception>
    /// <exception cref="InvalidDataException">A hyper-parameter is missing or inconsistent (the message names the key).</exception>
    public static LlamaConfig FromGguf(GgufFile file)
    {
        var arch = file.GetOrDefault(GgufKeys.General.Architecture, "");
        if (!SupportedArchitectures.Contains(arch))
            throw new NotSupportedException(
                $"{Path.GetFileName(file.Path)}: architecture '{(arch.Length == 0 ? "(none)" : arch)}' is not supported. Supported: {string.Join(", ", SupportedArchitectures)}.");

        int Int(string key) => Require<int>(file, arch + "." + key);
        int IntOr(string key, int fallback) => file.GetOrDefault(arch + "." + key, fallback);

        var dim = Int("embedding_length");
        var heads = Int("attention.head_count");
        if (heads <= 0)
            throw Bad(file, $"{arch}.attention.head_count is {heads}");
        var kvHeads = IntOr("attention.head_count_kv", heads);
        var headSize = IntOr("attention.key_length", dim / heads);
        var valueSize = IntOr("attention.value_length", headSize);
        var contextLength = Int("context_length");
        var vocab = file.TryGet<string[]>(GgufKeys.Tokenizer.Tokens, out var tokens)
            ? tokens.Length
            : IntOr("vocab_size", file.TryGetTensor("token_embd.weight", out var embd) && embd.Dimensions.Length == 2 ? (int)embd.Dimensions[1] : 0);

        var config = new LlamaConfig
        {
            Architecture = arch,
            EmbeddingLength = dim,
            BlockCount = Int("block_count"),
            FeedForwardLength = Int("feed_forward_length"),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadSize = headSize,
            RmsEpsilon = Require<float>(file, arch + ".attention.layer_norm_rms_epsilon"),
            ContextLength = contextLength,
            VocabSize = vocab,
            Rope = ReadRope(file, arch, headSize, contextLength),
        };
        if (valueSize != headSize)
            throw Bad(file, $"{arch}.attention.value_length {valueSize} differs from key_length {headSize}; Llamero needs them equal");
        config.Validate(file.Path);
        return config;
    }

    /// <summary>Checks the hyper-parameters fit together; throws <see cref="InvalidDataException"/> naming the one that does not.</summary>
    public void Validate(string source)
    {
        void Positive(int value, string key)
        {
            if (value <= 0)
                throw new InvalidDataException($"{Path.GetFileName(source)}: {Architecture}.{key} must be positive, got {value}.");
        }
        Positive(EmbeddingLength, "embedding_length");
        Positive(BlockCount, "block_count");
        Positive(FeedForwardLength, "feed_forward_length");
        Positive(HeadCount, "attention.head_count");
        Positive(KvHeadCount, "attention.head_count_kv");
        Positive(HeadSize, "attention.key_length");
        Positive(ContextLength, "context_length");
        Positive(VocabSize, "vocab_size (tokenizer.ggml.tokens)");
        if (HeadCount % KvHeadCount != 0)
            throw new InvalidDataException($"{Path.GetFileName(source)}: {Architecture}.attention.head_count {HeadCount} is not a multiple of head_count_kv {KvHeadCount}.");
        if (Rope.Dimensions > HeadSize || Rope.Dimensions % 2 != 0 || Rope.Dimensions <= 0)
            throw new InvalidDataException($"{Path.GetFileName(source)}: {Architecture}.rope.dimension_count {Rope.Dimensions} must be even and at most the head size {HeadSize}.");
        if (!(RmsEpsilon > 0))
            throw new InvalidDataException($"{Path.GetFileName(source)}: {Architecture}.attention.layer_norm_rms_epsilon must be positive, got {RmsEpsilon}.");
    }

    private static RopeParameters ReadRope(GgufFile file, string arch, int headSize, int contextLength)
    {
        var dims = file.GetOrDefault(arch + ".rope.dimension_count", headSize);
        var freqBase = file.GetOrDefault(arch + ".rope.freq_base", 10000f);
        // llama.cpp: rope.scaling.factor, else the legacy rope.scale_linear; 0 or absent means no stretch.
        var factor = file.GetOrDefault(arch + ".rope.scaling.factor", 0f);
        if (factor == 0)
            factor = file.GetOrDefault(arch + ".rope.scale_linear", 0f);
        if (factor == 0)
            factor = 1f;
        var typeName = file.GetOrDefault(arch + ".rope.scaling.type", "linear");
        // As in llama.cpp, the factor stretches positions whatever the type says; only YaRN changes the formula.
        var type = typeName switch
        {
            "none" or "linear" => factor == 1f ? RopeScalingType.None : RopeScalingType.Linear,
            "yarn" => RopeScalingType.Yarn,
            _ => throw new NotSupportedException($"{Path.GetFileName(file.Path)}: {arch}.rope.scaling.type '{typeName}' is not supported. Supported: none, linear, yarn."),
        };
        if (!(factor > 0))
            throw Bad(file, $"{arch}.rope.scaling.factor is {factor}");
        return new RopeParameters(
            dims, freqBase, type, factor,
            OriginalContextLength: file.GetOrDefault(arch + ".rope.scaling.original_context_length", contextLength),
            YarnBetaFast: file.GetOrDefault(arch + ".rope.scaling.yarn_beta_fast", 32f),
            YarnBetaSlow: file.GetOrDefault(arch + ".rope.scaling.yarn_beta_slow", 1f));
    }

    private static T Require<T>(GgufFile file, string key) =>
        file.ContainsKey(key) ? file.Require<T>(key) : throw Bad(file, $"required key {key} is missing");

    private static InvalidDataException Bad(GgufFile file, string what) => new($"{Path.GetFileName(file.Path)}: {what}.");
}
