using Llamero.Kernels;

namespace Llamero.Tests.Kernels;

public class WorkerPoolTests
{
    private sealed class Record(int size) : IParallelWork
    {
        public readonly int[] Seen = new int[size];
        public int FailOn = -1;

        public void Execute(int worker, int workers)
        {
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
}
