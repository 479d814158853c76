using System.Text;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Server.Scheduling;

/// <summary>
/// One sequence of the server: a KV-cache session driven by the library's <see cref="Generator"/> (which remembers
/// the cached tokens, so the next job reuses the longest matching prefix), and the job it is running. Touched only
/// by the scheduler's decode thread, except <see cref="IsBusy"/>.
/// </summary>
internal sealed class Slot(IModelSession session, Tokenizer tokenizer)
{
    private int _busy;
    private IAsyncEnumerator<GeneratedToken>? _steps;

    public Generator Generator { get; } = new(session, tokenizer);

    /// <summary>Decode-loop tick at which the slot was last given a job (least recently used wins ties).</summary>
    public long LastUsed { get; private set; }

    public GenerationJob? Job { get; private set; }

    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>Prompt tokens found in the cache for the current job.</summary>
    public int CachedPromptTokens { get; private set; }

    /// <summary>Tokens generated so far for the current job.</summary>
    public int Generated { get; private set; }

    /// <summary>Takes a job: keeps the matching prefix of the cache and starts the generator on the rest.</summary>
    public void Start(GenerationJob job, long tick)
    {
        var prompt = job.Request.PromptTokens;
        CachedPromptTokens = Generator.ReusePrefix(prompt);
        Generated = 0;
        LastUsed = tick;
        Job = job;
        Volatile.Write(ref _busy, 1);
        _steps = Generator.GenerateAsync(prompt[CachedPromptTokens..], job.Request.Options, job.Cancellation).GetAsyncEnumerator(job.Cancellation);
    }

    /// <summary>
    /// Advances the generator by one token (the first call evaluates the prompt). Returns the token, or null when
    /// the generator ended without one.
    /// </summary>
    public GeneratedToken? Step()
    {
        var moved = _steps!.MoveNextAsync();
        // The generator only yields the thread once, before the prompt; every later step completes synchronously.
        var hasNext = moved.IsCompleted ? moved.Result : moved.AsTask().GetAwaiter().GetResult();
        if (!hasNext)
            return null;
        var token = _steps.Current;
        if (token.Id >= 0)
            Generated++;
        return token;
    }

    /// <summary>Text of a token as it appears in output (for logprobs).</summary>
    public static string PieceText(Tokenizer tokenizer, int id) => Encoding.UTF8.GetString(tokenizer.Piece(id, renderSpecial: true));

    /// <summary>Releases the job; the cache stays for prefix reuse.</summary>
    public void Release()
    {
        var steps = _steps;
        _steps = null;
        Job = null;
        Volatile.Write(ref _busy, 0);
        if (steps is not null)
        {
            var disposed = steps.DisposeAsync();
            if (!disposed.IsCompleted)
                disposed.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>After an error the cache content is unknown: clear it.</summary>
    public void Reset() => Generator.Reset();
}
