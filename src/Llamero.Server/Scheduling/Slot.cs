using System.Text;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Server.Scheduling;

/// <summary>
/// One sequence of the server: a KV-cache session driven by the library's <see cref="Generator"/> (which remembers
/// the cached tokens, so the next job reuses the longest matching prefix), and the job it is running as a
/// <see cref="GenerationStepper"/>: the scheduler evaluates the slot's input in its batched decode step and hands back
/// the logits. Touched only by the scheduler's decode thread, except <see cref="IsBusy"/>.
/// </summary>
internal sealed class Slot(IModelSession session, Tokenizer tokenizer)
{
    private int _busy;
    private GenerationStepper? _steps;

    public Generator Generator { get; } = new(session, tokenizer);

    /// <summary>The sequence the batched decode appends this slot's input to.</summary>
    public IModelSession Session => Generator.Session;

    /// <summary>Decode-loop tick at which the slot was last given a job (least recently used wins ties).</summary>
    public long LastUsed { get; private set; }

    public GenerationJob? Job { get; private set; }

    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>True while the slot's prompt is still being evaluated (its input is a prompt chunk, not one token).</summary>
    public bool IsPrompting => _steps is { PromptRemaining: > 0 };

    /// <summary>Prompt tokens found in the cache for the current job.</summary>
    public int CachedPromptTokens { get; private set; }

    /// <summary>Tokens generated so far for the current job.</summary>
    public int Generated { get; private set; }

    /// <summary>
    /// Takes a job: keeps the matching prefix of the cache and starts the generator on the rest. Throws (nothing
    /// changed but the job's slot) when the options or the prompt are refused.
    /// </summary>
    public void Start(GenerationJob job, long tick)
    {
        var prompt = job.Request.PromptTokens;
        CachedPromptTokens = Generator.ReusePrefix(prompt);
        Generated = 0;
        LastUsed = tick;
        Job = job;
        Volatile.Write(ref _busy, 1);
        _steps = Generator.Start(prompt[CachedPromptTokens..], job.Request.Options);
    }

    /// <summary>The tokens this step evaluates for the slot: a prompt chunk of at most <paramref name="max"/>, or the
    /// last generated token.</summary>
    public ReadOnlyMemory<int> TakeInput(int max) => _steps!.TakeInput(Math.Min(max, Job!.Request.Options.BatchSize));

    /// <summary>Hands over the logits of the slot's input; returns the stream items they produced.</summary>
    public IReadOnlyList<GeneratedToken> Accept(ReadOnlySpan<float> logits, TimeSpan elapsed)
    {
        var items = _steps!.Accept(logits, elapsed);
        foreach (var item in items)
        {
            if (item.Id >= 0)
                Generated++;
        }
        return items;
    }

    /// <summary>Text of a token as it appears in output (for logprobs).</summary>
    public static string PieceText(Tokenizer tokenizer, int id) => Encoding.UTF8.GetString(tokenizer.Piece(id, renderSpecial: true));

    /// <summary>Releases the job; the cache stays for prefix reuse.</summary>
    public void Release()
    {
        _steps = null;
        Job = null;
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>After an error the cache content is unknown: clear it.</summary>
    public void Reset() => Generator.Reset();
}
