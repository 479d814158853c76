namespace Llamero.Kernels;

/// <summary>One parallel job: every participant calls <see cref="Execute"/> once with its own index.</summary>
internal interface IParallelWork
{
    /// <summary>Runs participant <paramref name="worker"/>'s share (0 ≤ worker &lt; <paramref name="workers"/>).</summary>
    void Execute(int worker, int workers);
}

/// <summary>
/// A fixed set of background threads that run one <see cref="IParallelWork"/> at a time together with the
/// calling thread, so a matrix multiplication costs two signals instead of task scheduling, and allocates
/// nothing. Calls from several threads are serialised. Exceptions in a worker are rethrown to the caller.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private readonly object _gate = new();
    private IParallelWork? _work;
    private Exception? _failure;
    private int _participants;
    private int _pending;
    private volatile bool _disposed;

    /// <summary>A pool of <paramref name="threads"/> participants: the caller plus threads − 1 workers.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            var index = i + 1;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"llamero-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Participants per job, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="work"/> on <paramref name="participants"/> threads (at most <see cref="Threads"/>)
    /// and returns when all have finished.</summary>
    public void Run(IParallelWork work, int participants)
    {
        participants = Math.Clamp(participants, 1, Threads);
        if (participants == 1)
        {
            work.Execute(0, 1);
            return;
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _work = work;
            _failure = null;
            _participants = participants;
            _pending = participants - 1;
            _done.Reset();
            for (var i = 0; i < participants - 1; i++)
                _wake[i].Release();
            try
            {
                work.Execute(0, participants);
            }
            finally
            {
                _done.Wait();
                _work = null;
            }
            if (_failure is { } failure)
                throw new AggregateException("A matrix worker failed.", failure);
        }
    }

    private void Loop(int index)
    {
        var wake = _wake[index - 1];
        while (true)
        {
            wake.Wait();
            if (_disposed)
                return;
            try
            {
                _work!.Execute(index, _participants);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Decrement(ref _pending) == 0)
                _done.Set();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var w in _wake)
                w.Release();
        }
    }
}
