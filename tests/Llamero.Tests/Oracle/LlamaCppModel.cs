using LLama;
using LLama.Common;
using LLama.Native;

namespace Llamero.Tests.Oracle;

/// <summary>
/// A whole model evaluated by llama.cpp (LLamaSharp 0.30.0), for comparing logits with Llamero's forward pass.
/// One sequence; tokens are appended at the next position as in <see cref="Llamero.Models.IModelSession"/>.
/// Defaults chosen to match Llamero: F32 KV cache (llama.cpp's default is F16), one micro-batch for the whole prompt.
/// </summary>
internal sealed class LlamaCppModel : IDisposable
{
    private static readonly Lock NativeInit = new();
    private static bool _initialised;

    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private int _position;

    private LlamaCppModel(LLamaWeights weights, LLamaContext context)
    {
        _weights = weights;
        _context = context;
    }

    /// <summary>Logits per token.</summary>
    public int VocabSize => _weights.Vocab.Count;

    /// <summary>Loads llama.cpp's native libraries once (the resolver is installed by NativeApi's static constructor)
    /// and silences its load chatter.</summary>
    public static void EnsureNative()
    {
        lock (NativeInit)
        {
            if (!_initialised)
            {
                NativeApi.llama_empty_call();
                NativeLogConfig.llama_log_set((_, _) => { });
                _initialised = true;
            }
        }
    }

    /// <summary>Quantizes <paramref name="source"/> into <paramref name="destination"/> as llama-quantize does
    /// (output.weight included, so the mixes are the real ones).</summary>
    public static void Quantize(string source, string destination, LLamaFtype type)
    {
        EnsureNative();
        if (!LLamaQuantizer.Quantize(source, destination, type, nthread: 1, allowRequantize: true, quantizeOutputTensor: true))
            throw new InvalidOperationException($"llama.cpp could not quantize {source} to {type}.");
    }

    /// <summary>Loads <paramref name="path"/> with a context of <paramref name="contextSize"/> positions;
    /// <paramref name="keyType"/>/<paramref name="valueType"/> set the KV cache types one by one (overriding <paramref name="f32Cache"/>).</summary>
    public static LlamaCppModel Load(string path, int contextSize = 256, bool flashAttention = false, bool f32Cache = true, int threads = 1,
        Llamero.Models.KvCacheType? keyType = null, Llamero.Models.KvCacheType? valueType = null)
    {
        EnsureNative();
        var cacheDefault = f32Cache ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16;
        static GGMLType Ggml(Llamero.Models.KvCacheType type) => type switch
        {
            Llamero.Models.KvCacheType.F16 => GGMLType.GGML_TYPE_F16,
            Llamero.Models.KvCacheType.Q8_0 => GGMLType.GGML_TYPE_Q8_0,
            Llamero.Models.KvCacheType.Q4_0 => GGMLType.GGML_TYPE_Q4_0,
            Llamero.Models.KvCacheType.Q4_1 => GGMLType.GGML_TYPE_Q4_1,
            Llamero.Models.KvCacheType.Q5_0 => GGMLType.GGML_TYPE_Q5_0,
            Llamero.Models.KvCacheType.Q5_1 => GGMLType.GGML_TYPE_Q5_1,
            Llamero.Models.KvCacheType.IQ4_NL => (GGMLType)20, // GGML_TYPE_IQ4_NL, which LLamaSharp does not name
            _ => GGMLType.GGML_TYPE_F32,
        };
        var p = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            Threads = threads,
            BatchThreads = threads,
            TypeK = keyType is { } k ? Ggml(k) : cacheDefault,
            TypeV = valueType is { } v ? Ggml(v) : cacheDefault,
            // llama.cpp quantizes a V cache only with flash attention (its CPU kernel is the one that reads such rows).
            FlashAttention = flashAttention || valueType is { } qv && Llamero.Models.KvCacheOptions.IsQuantized(qv),
        };
        var weights = LLamaWeights.LoadFromFile(p);
        try
        {
            return new LlamaCppModel(weights, weights.CreateContext(p));
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Evaluates <paramref name="tokens"/> at the next positions; returns the logits of every one
    /// (<paramref name="allLogits"/>) or of the last only.</summary>
    public float[][] Evaluate(IReadOnlyList<int> tokens, bool allLogits = false)
    {
        var batch = new LLamaBatch();
        for (var i = 0; i < tokens.Count; i++)
            batch.Add(tokens[i], _position + i, LLamaSeqId.Zero, allLogits || i == tokens.Count - 1);
        var result = _context.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        _position += tokens.Count;
        var rows = new List<float[]>();
        for (var i = allLogits ? 0 : tokens.Count - 1; i < tokens.Count; i++)
            rows.Add(_context.NativeHandle.GetLogitsIth(i).ToArray());
        return [.. rows];
    }

    /// <summary>Greedy (argmax) continuation of <paramref name="prompt"/>, <paramref name="count"/> tokens.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        var output = new int[count];
        var logits = Evaluate(prompt)[0];
        for (var i = 0; i < count; i++)
        {
            output[i] = ArgMax(logits);
            if (i + 1 < count)
                logits = Evaluate([output[i]])[0];
        }
        return output;
    }

    /// <summary>Context shift as llama.cpp's main does it: drops positions [keep, keep+discard) and moves the rest
    /// down by <paramref name="discard"/> (llama.cpp re-rotates the cached keys on the next decode).</summary>
    public void Shift(int keep, int discard)
    {
        var h = _context.NativeHandle;
        h.MemorySequenceRemove(LLamaSeqId.Zero, keep, keep + discard);
        h.MemorySequenceAdd(LLamaSeqId.Zero, keep + discard, _position, -discard);
        _position -= discard;
    }

    /// <summary>Forgets positions at or after <paramref name="position"/>.</summary>
    public void Truncate(int position)
    {
        _context.NativeHandle.MemorySequenceRemove(LLamaSeqId.Zero, position, -1);
        _position = position;
    }

    /// <summary>llama.cpp's saved state of sequence 0 (its KV cache cells, raw rows included).</summary>
    public unsafe byte[] SequenceState()
    {
        var h = _context.NativeHandle;
        var state = new byte[(int)h.GetStateSize(LLamaSeqId.Zero)];
        fixed (byte* p = state)
            h.GetState(p, (nuint)state.Length, LLamaSeqId.Zero);
        return state;
    }

    /// <summary>Clears the KV cache.</summary>
    public void Reset()
    {
        _context.NativeHandle.MemoryClear(true);
        _position = 0;
    }

    /// <summary>Index of the largest logit (the first on ties, as llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
