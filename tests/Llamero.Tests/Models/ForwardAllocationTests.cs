using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Tests.Kernels;

namespace Llamero.Tests.Models;

/// <summary>
/// Evaluating a token allocates nothing once the session has warmed up: activation buffers, quantized activations,
/// pool jobs and attention scratch are all reused (a behaviour test; it says nothing about speed).
/// </summary>
[Collection(nameof(MatMulThreads))]
public class ForwardAllocationTests
{
    // F16 weights big enough (2^20 multiply-adds and more) that the layer products go to the worker pool even for one
    // token; stories260K stays on the caller.
    private static readonly Lazy<string> Model = new(() => SyntheticLlama.Write(
        SyntheticModelTests.Small with { Dim = 1024, FeedForward = 1024, Heads = 8, KvHeads = 2, WeightType = GgmlType.F16, Seed = 17 }));

    public static TheoryData<string, int> Cases() => new()
    {
        { "synthetic", 1 }, { "synthetic", 2 }, { "stories260K", 1 }, { "stories260K", 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluating_a_token_or_a_prompt_allocates_nothing_after_warm_up(string model, int threads)
    {
        var before = MatMul.Threads;
        try
        {
            MatMul.Threads = threads;
            using var llm = LlamaModel.Load(model == "stories260K" ? Support.TestPaths.Stories260K : Model.Value);
            using var session = llm.CreateSession(64);
            int[] prompt = [1, 20, 30, 40, 50];
            session.Evaluate(prompt);
            for (var i = 0; i < 3; i++)
                session.Evaluate([60 + i]);

            long allocated;
            var attempts = 0;
            bool interrupted;
            do
            {
                // Tests elsewhere (CLI commands with --threads) may change the thread count meanwhile, and a new pool
                // is allocated then: such a window says nothing about the forward pass, so it is measured again.
                var changes = MatMul.ThreadChanges;
                session.Truncate(0);
                session.Evaluate(prompt);
                var start = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < 8; i++)
                    session.Evaluate([70 + i]);
                session.Truncate(0);
                session.Evaluate(prompt);
                allocated = GC.GetAllocatedBytesForCurrentThread() - start;
                interrupted = MatMul.ThreadChanges != changes;
            }
            while (interrupted && ++attempts < 10);

            Assert.Equal(0, allocated);
        }
        finally
        {
            MatMul.Threads = before;
        }
    }
}
