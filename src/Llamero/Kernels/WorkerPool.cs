using System.Diagnostics;

namespace Llamero.Kernels;

/// <summary>One parallel job: every participant calls <see cref="Execute"/> once with its own index.</summary>
internal interface IParallelWork
{
    /// <summary>Runs participant <paramref name="worker"/>'s share (0 ≤ worker &lt; <paramref name="workers"/>).</summary>
    void Execute(int worker, int workers);
}

/// <summary>
/// A fixed set of background threads that run one <see cref="IParallelWork"/> at a time together with the
/// calling thread. A token's forward pass hands out ~180 jobs, a few microseconds apart, so both sides spin for a
/// short while (<see cref="SpinMicroseconds"/>) before they block: a job published while the workers spin costs a
/// memory write instead of a futex wake-up, and a worker that finishes while the caller spins costs no sleep either.
/// Allocates nothing per job. Calls from several threads are serialised; a job that starts another job from
/// inside runs it inline. Exceptions in a worker are rethrown to the caller.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle thread spins on the job counter before it blocks.</summary>
    internal const int SpinMicroseconds = 200;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    // Jobs this thread is running (as caller or worker): a nested Run goes inline instead of deadlocking on _gate.
    [ThreadStatic]
    private static int t_depth;

    private readonly Thread[] _threads;
    private readonly Sleeper[] _workers;
    private readonly Sleeper _caller = new();
    private readonly object _gate = new();
    private readonly JobCounter _job = new();
    private IParallelWork? _work;
    private Exception? _failure;
    private int _participants;
    private int _pending;
    private int _disposed;
    private int _users;
    private int _retired;

    /// <summary>A pool of <paramref name="threads"/> participants: the caller plus threads − 1 workers.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _workers = new Sleeper[threads - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _workers[i] = new Sleeper();
            var index = i + 1;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"llamero-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Participants per job, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>True once <see cref="Dispose"/> has stopped the workers.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Runs <paramref name="work"/> on <paramref name="participants"/> threads (at most <see cref="Threads"/>)
    /// and returns when all have finished.</summary>
    public void Run(IParallelWork work, int participants)
    {
        participants = Math.Clamp(participants, 1, Threads);
        if (participants == 1 || t_depth > 0)
        {
            RunInline(work);
            return;
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            _failure = null;
            Volatile.Write(ref _work, work);
            Volatile.Write(ref _participants, participants);
            Volatile.Write(ref _pending, participants - 1);
            _job.Publish();
            for (var i = 0; i < participants - 1; i++)
                _workers[i].Wake();
            t_depth++;
            try
            {
                work.Execute(0, participants);
            }
            finally
            {
                t_depth--;
                WaitForWorkers();
                Volatile.Write(ref _work, null);
            }
            if (_failure is { } failure)
                throw new AggregateException("A parallel worker failed.", failure);
        }
    }

    private static void RunInline(IParallelWork work)
    {
        t_depth++;
        try
        {
            work.Execute(0, 1);
        }
        finally
        {
            t_depth--;
        }
    }

    private void WaitForWorkers() => _caller.WaitUntil(static pool => Volatile.Read(ref pool._pending) == 0, this);

    private void Loop(int index)
    {
        var me = _workers[index - 1];
        long seen = 0;
        while (true)
        {
            var generation = _job.WaitForChange(seen, me);
            seen = generation;
            if (IsDisposed)
                return;
            var participants = Volatile.Read(ref _participants);
            var work = Volatile.Read(ref _work);
            // A thread outside this job may read the fields of the next one: the second look at the counter tells.
            if (index >= participants || work is null || _job.Current != generation)
                continue;
            t_depth++;
            try
            {
                work.Execute(index, participants);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                t_depth--;
            }
            if (Interlocked.Decrement(ref _pending) == 0)
                _caller.Wake();
        }
    }

    /// <summary>Registers a user; false if the pool is retired (the caller must use another pool).</summary>
    internal bool TryEnter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _retired) == 0)
            return true;
        Exit();
        return false;
    }

    /// <summary>Ends a use begun by <see cref="TryEnter"/>; the last user of a retired pool disposes it.</summary>
    internal void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0 && Volatile.Read(ref _retired) != 0)
            Dispose();
    }

    /// <summary>Refuses new users and disposes the pool as soon as no run is in flight (now, if none is).</summary>
    internal void Retire()
    {
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _users) == 0)
            Dispose();
    }

    /// <summary>Stops the worker threads (after the run in flight, if any).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            _job.Publish();
            foreach (var w in _workers)
                w.Wake();
        }
    }

    /// <summary>The job counter, alone on its cache line: idle workers spin reading it.</summary>
    private sealed class JobCounter
    {
#pragma warning disable CS0169 // padding
        private readonly long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6;
#pragma warning restore CS0169
        private long _value;
#pragma warning disable CS0169
        private readonly long _pad7, _pad8, _pad9, _pad10, _pad11, _pad12, _pad13;
#pragma warning restore CS0169

        public long Current => Volatile.Read(ref _value);

        public void Publish() => Interlocked.Increment(ref _value);

        /// <summary>Waits on <paramref name="sleeper"/> until the counter differs from <paramref name="seen"/>.</summary>
        public long WaitForChange(long seen, Sleeper sleeper)
        {
            sleeper.WaitUntil(static s => s.Counter.Current != s.Seen, (Counter: this, Seen: seen));
            return Current;
        }
    }

    /// <summary>
    /// A thread that waits for a condition, and the one who wakes it. The waiter spins first, for a budget that adapts:
    /// it doubles when the spin saw the condition come true and halves when the waiter had to block anyway, so on a
    /// machine where other processes keep our threads off the cores the pool stops burning time slices and behaves
    /// like a plain blocking hand-off. Blocking goes through <see cref="_asleep"/> with full fences on both sides (the
    /// waiter announces itself, then looks at the condition once more; the waker changes the condition, then looks
    /// for a sleeper), so a wake-up is never lost and the semaphore is released exactly once per sleep. The budget
    /// belongs to the one thread that waits here at a time.
    /// </summary>
    private sealed class Sleeper
    {
        private static readonly long MinSpinTicks = Math.Max(1, SpinTicks / 64);

        private readonly SemaphoreSlim _signal = new(0);
        private long _spinTicks = SpinTicks;
        private int _asleep;

        /// <summary>Returns once <paramref name="done"/> is true: spinning while the budget lasts, then blocking
        /// until <see cref="Wake"/> (which the other side calls after making the condition true).</summary>
        public void WaitUntil<TState>(Func<TState, bool> done, TState state)
        {
            if (done(state))
                return;
            var start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetTimestamp() - start < _spinTicks)
            {
                Thread.SpinWait(8);
                if (done(state))
                {
                    _spinTicks = Math.Min(SpinTicks, 2 * _spinTicks);
                    return;
                }
            }
            _spinTicks = Math.Max(MinSpinTicks, _spinTicks / 2);
            Interlocked.Exchange(ref _asleep, 1);
            // Withdraw if the condition came true meanwhile, unless a waker already claimed us: then take its signal.
            if (done(state) && Interlocked.Exchange(ref _asleep, 0) == 1)
                return;
            _signal.Wait();
        }

        public void Wake()
        {
            if (Volatile.Read(ref _asleep) != 0 && Interlocked.Exchange(ref _asleep, 0) == 1)
                _signal.Release();
        }
    }
}
