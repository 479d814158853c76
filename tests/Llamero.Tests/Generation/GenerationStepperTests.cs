using Llamero.Generation;
using Llamero.Models;
using Llamero.Sampling;
using Llamero.Tests.Support;
using static Llamero.Tests.Generation.GeneratedStreams;

namespace Llamero.Tests.Generation;

/// <summary>A generation driven step by step by its caller (as the server's batched decode does) equals GenerateAsync.</summary>
public class GenerationStepperTests
{
    [Fact]
    public async Task Small_prompt_chunks_and_batched_evaluation_give_the_GenerateAsync_stream()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        var prompt = model.Tokenizer.Encode("Once upon a time there was a little girl named Lily");
        var options = new GenerationOptions { MaxTokens = 24, Sampling = SamplingOptions.Greedy, LogProbs = true, StopStrings = ["park"] };
        var expected = await Collect(new Generator(model.CreateSession(128), model.Tokenizer).GenerateAsync(prompt, options));

        // The caller evaluates through a batch decoder, three prompt tokens a step.
        var generator = new Generator(model.CreateSession(128), model.Tokenizer);
        var decoder = model.CreateBatchDecoder(maxTokens: 3, maxSequences: 1);
        var steps = generator.Start(prompt, options);
        var actual = new List<GeneratedToken>();
        var promptSteps = 0;
        while (!steps.IsFinished)
        {
            promptSteps += steps.PromptRemaining > 0 ? 1 : 0;
            var input = steps.TakeInput(3);
            Assert.Throws<InvalidOperationException>(() => steps.TakeInput(3)); // one input at a time
            actual.AddRange(steps.Accept(decoder.Decode([new(generator.Session, input)]), TimeSpan.Zero));
        }

        Assert.Equal((prompt.Length + 2) / 3, promptSteps);
        Assert.Equal(expected.Select(t => (t.Id, t.Text, t.LogProb, t.FinishReason)), actual.Select(t => (t.Id, t.Text, t.LogProb, t.FinishReason)));
        Assert.Equal(prompt.Length, actual[^1].Timings!.PromptTokens);
        Assert.Throws<InvalidOperationException>(() => steps.TakeInput(1));
        // The generator knows what its cache holds, so the next prompt reuses it.
        Assert.Equal(prompt.Length, generator.CommonPrefix([.. prompt, 5]));
    }
}
