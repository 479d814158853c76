using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants.Interleaved;
using Llamero.Tokenization;

namespace Llamero.Models;

/// <summary>
/// A Llama-family model loaded from a GGUF file: hyper-parameters, weights viewed in the memory-mapped file, and
/// the tokenizer. Create one <see cref="IModelSession"/> per sequence. Disposing the model unmaps the file and frees
/// the repacked weights: dispose its sessions first. A forward pass still running then finishes before the memory goes,
/// and a session evaluating afterwards gets an <see cref="ObjectDisposedException"/> rather than reading freed memory.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly RepackedWeights? _repacked;
    private int _passes;   // forward passes reading the weights right now
    private int _disposed;

    private LlamaModel(GgufFile file, LlamaConfig config, LlamaWeights weights, Tokenizer tokenizer, RepackedWeights? repacked)
    {
        _repacked = repacked;
        File = file;
        Config = config;
        Weights = weights;
        Tokenizer = tokenizer;
    }

    /// <summary>The open GGUF file the weights live in.</summary>
    public GgufFile File { get; }

    /// <summary>The hyper-parameters.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The weights (views into <see cref="File"/>, or repacked copies).</summary>
    public LlamaWeights Weights { get; }

    /// <summary>Matrices repacked into an interleaved layout at load time, and the native memory they hold.</summary>
    public (int Matrices, long Bytes) Repacked => _repacked is null ? (0, 0) : (_repacked.Count, _repacked.Bytes);

    /// <summary>The tokenizer described by the file's <c>tokenizer.ggml.*</c> keys.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>
    /// Opens <paramref name="path"/> (any GGUF layout <see cref="GgufFile.Open"/> reads), checks every tensor against
    /// the hyper-parameters and binds the weights. With <paramref name="progress"/>, also reads every page of the
    /// weights once so the first token does not wait on the disk, reporting the fraction done (0..1).
    /// </summary>
    public static LlamaModel Load(string path, IProgress<double>? progress = null) => Load(path, ModelLoadOptions.Default, progress);

    /// <summary>As <see cref="Load(string, IProgress{double}?)"/>, with <paramref name="options"/> (e.g. no repacking).</summary>
    public static LlamaModel Load(string path, ModelLoadOptions options, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = GgufFile.Open(path);
        var repacked = options.RepackWeights ? new RepackedWeights(options.LayoutFor) : null;
        try
        {
            // On a core the threads leave idle, the kernels compile while the weights load (the first token would wait).
            KernelWarmup.StartIfIdleCore(() => MultipliedKinds(file, options));
            var config = LlamaConfig.FromGguf(file);
            // Repacking reads the matrices it copies (in parallel, in file order) and reports each one as it lands;
            // the tensors left in the file are read in afterwards, so no page is read twice.
            var loading = progress is null ? null : new LoadProgress(file, progress);
            var weights = LlamaWeights.FromGguf(file, config, repacked, loading is null ? null : loading.Done);
            loading?.ReadRest();
            if (weights.RopeFrequencyFactors is { } factors)
                config = config with { Rope = config.Rope with { FrequencyFactors = factors } };
            var tokenizer = Tokenizer.FromGguf(file);
            if (tokenizer.VocabSize != config.VocabSize)
                throw new InvalidDataException($"{System.IO.Path.GetFileName(path)}: the tokenizer has {tokenizer.VocabSize} tokens but the model {config.VocabSize} logits.");
            return new LlamaModel(file, config, weights, tokenizer, repacked);
        }
        catch
        {
            repacked?.Dispose();
            file.Dispose();
            throw;
        }
    }

    // The formats and layouts the matrices will be multiplied in: every 2-D weight but the embedding table, in its format's
    // layout when repacking (one that does not fit a matrix's shape leaves it plain: warming both costs little).
    private static (GgmlType, WeightLayout?)[] MultipliedKinds(GgufFile file, ModelLoadOptions options) =>
        [.. file.Tensors.Where(t => t.Dimensions.Length == 2 && t.Name != "token_embd.weight").Select(t => t.Type).Distinct()
            .Select(type => (type, options.RepackWeights ? options.LayoutFor(type) : null))];

    /// <summary>A new sequence with a KV cache of <paramref name="contextSize"/> positions
    /// (0 or less: the model's trained context), stored as <paramref name="cacheTypes"/> says
    /// (default <see cref="KvCacheOptions.Default"/>).</summary>
    public IModelSession CreateSession(int contextSize = 0, KvCacheOptions? cacheTypes = null) =>
        new LlamaSession(this, contextSize <= 0 ? Config.ContextLength : contextSize, cacheTypes);

    /// <summary>
    /// A decoder that evaluates several of this model's sessions in one forward pass per step (continuous batching):
    /// at most <paramref name="maxTokens"/> tokens from at most <paramref name="maxSequences"/> sequences a step.
    /// </summary>
    public LlamaBatchDecoder CreateBatchDecoder(int maxTokens, int maxSequences) => new(this, maxTokens, maxSequences);

    /// <summary>Unmaps the file and frees the repacked weights, once the forward passes running now have finished;
    /// the model's sessions cannot evaluate afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        var wait = new SpinWait();
        while (Volatile.Read(ref _passes) != 0)
            wait.SpinOnce();
        File.Dispose();
        _repacked?.Dispose();
    }

    /// <summary>
    /// Marks a forward pass that reads the weights until the returned scope is disposed: <see cref="Dispose"/> waits for
    /// it, and a pass begun after <see cref="Dispose"/> throws instead of reading unmapped or freed memory.
    /// </summary>
    internal ForwardScope BeginForward()
    {
        // Both sides use full fences (Interlocked), so either Dispose sees this pass or this pass sees Dispose.
        Interlocked.Increment(ref _passes);
        if (Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Decrement(ref _passes);
            throw new ObjectDisposedException(nameof(LlamaModel), "The model of this session was disposed: dispose sessions before their model.");
        }
        return new ForwardScope(this);
    }

    /// <summary>One forward pass reading the weights (see <see cref="BeginForward"/>).</summary>
    internal readonly struct ForwardScope(LlamaModel model) : IDisposable
    {
        /// <summary>Ends the pass.</summary>
        public void Dispose() => Interlocked.Decrement(ref model._passes);
    }
}
