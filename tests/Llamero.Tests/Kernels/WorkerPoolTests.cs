using Llamero.Kernels;

namespace Llamero.Tests.Kernels;

public class WorkerPoolTests
{
    private sealed class Record(int size) : IParallelWork
    {
        public readonly int[] Seen = new int[size];
        public int FailOn = -1;
        public int SlowWorker = -1;

        public void Execute(int worker, int workers)
        {
            if (worker == SlowWorker)
                Thread.Sleep(3);
            Interlocked.Increment(ref Seen[worker]);
            Assert.True(workers <= Seen.Length);
            if (worker == FailOn)
                throw new InvalidOperationException("boom");
        }
    }

    [Fact]
    public void Every_participant_runs_once_per_job_and_the_pool_is_reused()
    {
        using var pool = new WorkerPool(4);
        var work = new Record(4);
        for (var i = 0; i < 100; i++)
            pool.Run(work, 4);
        Assert.All(work.Seen, n => Assert.Equal(100, n));
        var fewer = new Record(4);
        pool.Run(fewer, 2);
        Assert.Equal([1, 1, 0, 0], fewer.Seen);
    }

    [Fact]
    public void A_worker_exception_reaches_the_caller_and_the_pool_survives()
    {
        using var pool = new WorkerPool(3);
        var failing = new Record(3) { FailOn = 2 };
        var ex = Assert.Throws<AggregateException>(() => pool.Run(failing, 3));
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        var ok = new Record(3);
        pool.Run(ok, 3);
        Assert.Equal([1, 1, 1], ok.Seen);
    }

    [Fact]
    public void A_caller_exception_propagates_after_the_workers_finish()
    {
        using var pool = new WorkerPool(2);
        var failing = new Record(2) { FailOn = 0, SlowWorker = 1 };
        Assert.Throws<InvalidOperationException>(() => pool.Run(failing, 2));
        Assert.Equal([1, 1], failing.Seen);
        var ok = new Record(2);
        pool.Run(ok, 2);
        Assert.Equal([1, 1], ok.Seen);
    }

    [Fact]
    public void Jobs_far_apart_and_slow_workers_go_through_the_blocking_path()
    {
        using var pool = new WorkerPool(3);
        var work = new Record(3) { SlowWorker = 2 };
        for (var i = 0; i < 5; i++)
        {
            // Longer than the spin: both the idle workers and the waiting caller block, then are woken.
            Thread.Sleep(2 * WorkerPool.SpinMicroseconds / 1000 + 1);
            pool.Run(work, 3);
        }
        Assert.Equal([5, 5, 5], work.Seen);
    }

    [Fact]
    public void Many_concurrent_callers_each_get_every_participant_once_per_job()
    {
        using var pool = new WorkerPool(3);
        var records = Enumerable.Range(0, 6).Select(_ => new Record(3)).ToArray();
        var callers = records.Select(r => new Thread(() =>
        {
            for (var i = 0; i < 300; i++)
                pool.Run(r, 3);
        })).ToArray();
        foreach (var t in callers)
            t.Start();
        foreach (var t in callers)
            t.Join();
        Assert.All(records, r => Assert.Equal([300, 300, 300], r.Seen));
    }

    private sealed class Nested(WorkerPool pool, Record inner) : IParallelWork
    {
        public void Execute(int worker, int workers) => pool.Run(inner, workers);
    }

    [Fact]
    public void A_job_started_from_inside_a_job_runs_inline()
    {
        using var pool = new WorkerPool(3);
        var inner = new Record(3);
        pool.Run(new Nested(pool, inner), 3);
        Assert.Equal([3, 0, 0], inner.Seen);
    }

    [Fact]
    public void A_retired_pool_serves_its_current_user_and_then_stops()
    {
        var pool = new WorkerPool(2);
        Assert.True(pool.TryEnter());
        pool.Retire();
        Assert.False(pool.IsDisposed);
        Assert.False(pool.TryEnter());
        var work = new Record(2);
        pool.Run(work, 2);
        Assert.Equal([1, 1], work.Seen);
        pool.Exit();
        Assert.True(pool.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => pool.Run(work, 2));
    }
}
