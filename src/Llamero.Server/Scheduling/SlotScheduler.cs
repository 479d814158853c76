using System.Diagnostics;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Server.Engine;
using Llamero.Server.Errors;
using Llamero.Server.Metrics;

namespace Llamero.Server.Scheduling;

/// <summary>
/// Runs every generation of the server on one decode thread over N slots that share the loaded model, with
/// continuous batching: each decode step is ONE forward pass (<see cref="IBatchDecoder.Decode"/>) over the next token
/// of every generating slot plus, in the room left by the step's token budget, prompt chunks of slots that just took
/// a job (oldest first), as llama.cpp's server does. Jobs join and leave between steps. Each slot drives the library's
/// <see cref="Generator"/> step by step (<see cref="GenerationStepper"/>), which does sampling, stop strings, logprobs,
/// context shift and prefix reuse.
/// Requests beyond N wait in a bounded FIFO queue; beyond that they are refused with 503 + Retry-After. A request
/// whose client disconnects is dropped at its next step and its slot freed. A slot keeps its cache after a job and
/// the next job reuses the longest matching prefix (the slot with the longest match is chosen).
/// </summary>
public sealed class SlotScheduler : IDisposable
{
    private readonly IInferenceEngine _engine;
    private readonly ServerMetrics _metrics;
    private readonly Slot[] _slots;
    private readonly IBatchDecoder _decoder;
    private readonly List<SequenceTokens> _batch = [];
    private readonly List<Slot> _members = [];
    private readonly List<Slot> _busy = [];   // this step's slots with a job, generating before prompting, oldest first
    private readonly LinkedList<GenerationJob> _queue = new();
    private readonly Queue<Action> _work = new();
    private readonly object _lock = new();
    private readonly Thread _thread;
    private int _active;
    private long _tick;
    private bool _disposed;

    /// <summary>
    /// Creates <paramref name="slotCount"/> sessions of <paramref name="contextSize"/> tokens and a batch decoder of
    /// <paramref name="batchTokens"/> tokens per step (at least one per slot), and starts the decode thread.
    /// </summary>
    public SlotScheduler(IInferenceEngine engine, int slotCount, int contextSize, int queueCapacity, ServerMetrics metrics, int batchTokens = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueCapacity);
        _engine = engine;
        _metrics = metrics;
        ContextSize = contextSize;
        QueueCapacity = queueCapacity;
        _slots = new Slot[slotCount];
        for (var i = 0; i < slotCount; i++)
            _slots[i] = new Slot(engine.CreateSession(contextSize), engine.Tokenizer);
        _decoder = engine.CreateBatchDecoder(Math.Max(batchTokens, slotCount), slotCount);
        _thread = new Thread(DecodeLoop) { IsBackground = true, Name = "llamero-decode" };
        _thread.Start();
    }

    /// <summary>Tokens each slot's context holds.</summary>
    public int ContextSize { get; }

    /// <summary>Requests that may wait for a slot.</summary>
    public int QueueCapacity { get; }

    /// <summary>Number of slots.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>Requests waiting for a slot.</summary>
    public int QueueDepth
    {
        get
        {
            lock (_lock)
                return _queue.Count;
        }
    }

    /// <summary>Slots running a request.</summary>
    public int BusySlots => _slots.Count(s => s.IsBusy);

    /// <summary>
    /// Queues a generation. Throws <see cref="ApiException"/> (503, Retry-After) when every slot and queue place is
    /// taken. The caller reads <see cref="GenerationJob.Pieces"/> and awaits <see cref="GenerationJob.Completion"/>.
    /// </summary>
    public GenerationJob Submit(GenerationRequest request, CancellationToken cancellation)
    {
        if (request.PromptTokens.Length == 0)
            throw new ArgumentException("The prompt has no tokens.", nameof(request));
        var job = new GenerationJob(request, cancellation);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_active + _queue.Count >= _slots.Length + QueueCapacity)
            {
                _metrics.Rejected();
                throw ApiException.Unavailable(
                    $"Server busy: all {_slots.Length} slots and {QueueCapacity} queue places are taken. Retry later.",
                    "server_busy", retryAfterSeconds: 1);
            }
            _queue.AddLast(job);
            Monitor.PulseAll(_lock);
        }
        // A client that leaves while queued gives its place back at once.
        cancellation.Register(() =>
        {
            lock (_lock)
            {
                if (_queue.Remove(job))
                    job.Cancel();
            }
        });
        return job;
    }

    /// <summary>
    /// Runs <paramref name="compute"/> on the decode thread between two steps, so every use of the model happens on
    /// one thread (embeddings use this). Cancellation is honoured until it starts.
    /// </summary>
    public Task<T> RunOnDecodeThreadAsync<T>(Func<T> compute, CancellationToken cancellation)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _work.Enqueue(() =>
            {
                if (cancellation.IsCancellationRequested)
                {
                    done.TrySetCanceled(cancellation);
                    return;
                }
                try
                {
                    done.TrySetResult(compute());
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            });
            Monitor.PulseAll(_lock);
        }
        return done.Task;
    }

    private void DecodeLoop()
    {
        var work = new List<Action>();
        while (true)
        {
            lock (_lock)
            {
                if (_disposed)
                    return;
                AssignQueuedJobs();
                if (_active == 0 && _work.Count == 0)
                {
                    Monitor.Wait(_lock);
                    continue;
                }
                work.AddRange(_work);
                _work.Clear();
            }
            foreach (var item in work)
                item();
            work.Clear();
            var started = Stopwatch.GetTimestamp();
            DecodeStep();
            _metrics.DecodeBusy(Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>
    /// One step: drops jobs whose client left, gathers every generating slot's token, then prompt chunks (oldest job
    /// first) in the budget left, evaluates them all in one forward pass and hands each slot its logits.
    /// </summary>
    private void DecodeStep()
    {
        _batch.Clear();
        _members.Clear();
        var budget = _decoder.MaxTokens;
        _busy.Clear();
        foreach (var slot in _slots)
        {
            if (slot.Job is not null)
                _busy.Add(slot);
        }
        _busy.Sort(GenerationFirstThenOldest);
        foreach (var slot in _busy)
        {
            var job = slot.Job!;
            if (job.Cancellation.IsCancellationRequested)
            {
                End(slot, job.Cancel);
                continue;
            }
            if (budget == 0)
                continue;
            try
            {
                var input = slot.TakeInput(budget);
                _batch.Add(new SequenceTokens(slot.Session, input));
                _members.Add(slot);
                budget -= input.Length;
            }
            catch (Exception e)
            {
                slot.Reset();
                End(slot, () => job.Fail(e));
            }
        }
        if (_batch.Count == 0)
            return;

        var started = Stopwatch.GetTimestamp();
        ReadOnlySpan<float> logits;
        try
        {
            logits = _decoder.Decode(_batch);
        }
        catch (Exception e)
        {
            // The step evaluated nothing reliable: every slot in it starts over.
            foreach (var slot in _members)
            {
                var job = slot.Job!;
                slot.Reset();
                End(slot, () => job.Fail(e));
            }
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.DecodeStep(_decoder.MaxTokens - budget);
        var vocab = _decoder.VocabSize;
        for (var i = 0; i < _members.Count; i++)
            Deliver(_members[i], logits.Slice(i * vocab, vocab), elapsed);
    }

    private static int GenerationFirstThenOldest(Slot a, Slot b) =>
        a.IsPrompting != b.IsPrompting ? a.IsPrompting.CompareTo(b.IsPrompting) : a.LastUsed.CompareTo(b.LastUsed);

    /// <summary>Moves queued jobs into free slots, preferring the slot whose cache shares the longest prefix.</summary>
    private void AssignQueuedJobs()
    {
        while (_queue.First is { } node && _active < _slots.Length)
        {
            var job = node.Value;
            _queue.RemoveFirst();
            if (job.Cancellation.IsCancellationRequested)
            {
                job.Cancel();
                continue;
            }
            var slot = _slots.Where(s => s.Job is null)
                .OrderByDescending(s => s.Generator.CommonPrefix(job.Request.PromptTokens))
                .ThenBy(s => s.LastUsed)
                .First();
            try
            {
                slot.Start(job, ++_tick);
                _metrics.PromptTokensCached(slot.CachedPromptTokens);
                _metrics.PromptTokensEvaluated(job.Request.PromptTokens.Length - slot.CachedPromptTokens);
                _active++;
            }
            catch (Exception e)
            {
                slot.Release();
                slot.Reset();
                job.Fail(e);
            }
        }
    }

    /// <summary>Hands a slot the logits of its input and emits what they produced to its job.</summary>
    private void Deliver(Slot slot, ReadOnlySpan<float> logits, TimeSpan elapsed)
    {
        var job = slot.Job!;
        try
        {
            foreach (var token in slot.Accept(logits, elapsed))
            {
                if (token.Id >= 0)
                    _metrics.TokenGenerated();
                var logprob = token.LogProb is { } lp ? Logprob(token, lp) : null;
                if (token.Text.Length > 0 || logprob is not null)
                    job.Emit(new GeneratedPiece(token.Text, logprob));
                if (token.FinishReason is { } reason)
                {
                    var finish = reason switch
                    {
                        FinishReason.MaxTokens or FinishReason.ContextFull => "length",
                        _ => "stop",
                    };
                    End(slot, () => job.Finish(Summary(slot, job, finish)));
                }
            }
        }
        catch (Exception e)
        {
            slot.Reset();
            End(slot, () => job.Fail(e));
        }
    }

    private TokenLogprob Logprob(GeneratedToken token, float logprob)
    {
        var tokenizer = _engine.Tokenizer;
        var top = token.TopLogProbs?.Select(t => (Slot.PieceText(tokenizer, t.Id), t.LogProb)).ToArray() ?? [];
        return new TokenLogprob(Slot.PieceText(tokenizer, token.Id), logprob, top);
    }

    private static GenerationSummary Summary(Slot slot, GenerationJob job, string finish) =>
        new(finish, job.Request.PromptTokens.Length, slot.CachedPromptTokens, slot.Generated);

    private void End(Slot slot, Action complete)
    {
        slot.Release();
        lock (_lock)
            _active--;
        complete();
    }

    /// <summary>Stops the decode thread; queued and running jobs fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            Monitor.PulseAll(_lock);
        }
        _thread.Join();
        foreach (var slot in _slots)
        {
            slot.Job?.Fail(new ObjectDisposedException(nameof(SlotScheduler)));
            slot.Generator.Session.Dispose();
        }
        lock (_lock)
        {
            foreach (var job in _queue)
                job.Fail(new ObjectDisposedException(nameof(SlotScheduler)));
            _queue.Clear();
            _work.Clear();
        }
    }
}
