using Llamero.Models;
using Llamero.Sampling;
using Llamero.Server.Engine;

namespace Llamero.Server.Scheduling;

/// <summary>
/// One sequence position of the server: a KV-cache session plus the tokens it holds, and the state of the job it
/// is running. Touched only by the scheduler's decode thread (except <see cref="IsBusy"/> reads).
/// </summary>
internal sealed class Slot(int index, IModelSession session)
{
    public int Index { get; } = index;

    public IModelSession Session { get; } = session;

    /// <summary>The tokens in the session's cache, in order: kept after a job so the next one can reuse a prefix.</summary>
    public List<int> Cached { get; } = [];

    /// <summary>Decode-loop tick at which the slot was last given a job (for least-recently-used choice).</summary>
    public long LastUsed { get; set; }

    public GenerationJob? Job { get; private set; }

    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    private int _busy;

    // Per-job state.
    public SamplerChain Sampler { get; private set; } = null!;
    public ITokenTextDecoder Decoder { get; private set; } = null!;
    public StopStringMatcher Stops { get; private set; } = null!;
    /// <summary>Index in the prompt of the next prompt token to evaluate.</summary>
    public int PromptCursor { get; set; }
    public int CachedPromptTokens { get; private set; }
    public int Generated { get; set; }
    /// <summary>Reused one-element buffer for single-token evaluation.</summary>
    public int[] OneToken { get; } = new int[1];

    /// <summary>The last sampled token, evaluated at the start of the next step.</summary>
    public int LastToken { get; set; }

    /// <summary>Length of the common prefix of the cached tokens and <paramref name="prompt"/>.</summary>
    public int CommonPrefix(int[] prompt)
    {
        var n = Math.Min(Cached.Count, prompt.Length);
        var i = 0;
        while (i < n && Cached[i] == prompt[i])
            i++;
        return i;
    }

    /// <summary>Takes a job: keeps the matching prefix of the cache, drops the rest, prepares sampler and decoder.</summary>
    public void Start(GenerationJob job, IInferenceEngine engine, long tick)
    {
        var prompt = job.Request.PromptTokens;
        var reuse = CommonPrefix(prompt);
        if (reuse == prompt.Length)
            reuse--; // at least one token must be evaluated to get the logits of the last position
        if (reuse < Cached.Count)
        {
            Session.Truncate(reuse);
            Cached.RemoveRange(reuse, Cached.Count - reuse);
        }
        Job = job;
        Volatile.Write(ref _busy, 1);
        LastUsed = tick;
        PromptCursor = reuse;
        CachedPromptTokens = reuse;
        Generated = 0;
        Sampler = SamplerChain.Create(job.Request.Sampling, engine.VocabSize, Session.ContextSize);
        foreach (var t in prompt)
            Sampler.Accept(t);
        Decoder = engine.CreateDecoder();
        Stops = new StopStringMatcher(job.Request.Stop);
    }

    /// <summary>Releases the job; the cache stays for prefix reuse.</summary>
    public void Release()
    {
        Job = null;
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>After an error the cache content is unknown: clear it.</summary>
    public void Reset()
    {
        try
        {
            Session.Truncate(0);
        }
        finally
        {
            Cached.Clear();
        }
    }
}
