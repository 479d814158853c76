using Llamero.Generation;
using static Llamero.Tests.Generation.GeneratedStreams;
using Llamero.Sampling;
using static Llamero.Tests.Generation.ScriptedModel;

namespace Llamero.Tests.Generation;

/// <summary>The generator's stops, limits, context shift and cache reuse, on a scripted model.</summary>
public class GeneratorTests
{
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy };

    private static string Text(IEnumerable<GeneratedToken> items) => string.Concat(items.Select(i => i.Text));

    [Fact]
    public async Task Streams_until_end_of_generation_and_reports_it_last()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], Greedy));
        Assert.Equal(" Once upon a time, the end.", Text(items));
        var last = items[^1];
        Assert.Equal(FinishReason.EndOfGeneration, last.FinishReason);
        Assert.Equal(Eos, last.Id);
        Assert.All(items[..^1], i => Assert.Null(i.FinishReason));
        Assert.Equal(8, items.Count - 1);
        Assert.Equal(1, last.Timings!.PromptTokens);
        Assert.Equal(9, last.Timings.SampledTokens);
        Assert.Equal(8, last.Timings.EvalRuns); // the EOS is never evaluated
    }

    [Fact]
    public async Task Max_tokens_stops_without_evaluating_the_last_token()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var generator = new Generator(session, Tokenizer);
        var items = await Collect(generator.GenerateAsync([Bos], Greedy with { MaxTokens = 3 }));
        Assert.Equal(" Once upon a", Text(items));
        Assert.Equal(FinishReason.MaxTokens, items[^1].FinishReason);
        Assert.Equal(-1, items[^1].Id);
        Assert.Equal([Bos, Once, Upon], session.Cache);
        Assert.Equal([Bos, Once, Upon, A], generator.Tokens); // the last token waits for the next call

        var more = await Collect(generator.GenerateAsync([], Greedy with { MaxTokens = 2 }));
        Assert.Equal(" time,", Text(more));
        Assert.Equal(1, more[^1].Timings!.PromptTokens); // only the pending token
    }

    [Fact]
    public async Task Stop_string_ends_generation_and_never_reaches_the_output()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var options = Greedy with { StopStrings = [", the"] };
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], options));
        Assert.Equal(" Once upon a time", Text(items));
        Assert.Equal(FinishReason.StopString, items[^1].FinishReason);
        // "," was held back while it could start the stop string.
        Assert.Equal("", items.Single(i => i.Id == Comma).Text);
    }

    [Fact]
    public async Task Held_back_text_is_released_when_it_turns_out_not_to_be_a_stop()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var options = Greedy with { StopStrings = [", then"] };
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], options));
        Assert.Equal(" Once upon a time, the end.", Text(items));
        Assert.Equal(FinishReason.EndOfGeneration, items[^1].FinishReason);
    }

    [Fact]
    public async Task Multi_byte_characters_are_never_split()
    {
        var session = new ScriptedSession(64, last => last == ByteC3 ? ByteA9 : last == ByteA9 ? Eos : ByteC3, VocabSize);
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], Greedy));
        Assert.Equal(["", "é", ""], items.Select(i => i.Text));
    }

    [Fact]
    public async Task Full_context_shifts_keeping_bos_and_dropping_half_of_the_rest()
    {
        var session = new ScriptedSession(16, Forever, VocabSize);
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos, Once, Upon], Greedy with { MaxTokens = 40 }));
        Assert.Equal(41, items.Count);
        Assert.Equal(FinishReason.MaxTokens, items[^1].FinishReason);
        // 16 tokens cached: keep BOS (1), discard (16 - 1) / 2 = 7.
        Assert.Equal((1, 7), session.Shifts[0]);
        Assert.True(session.Shifts.Count >= 3);
        Assert.Equal(Bos, session.Cache[0]);
        Assert.Equal(session.Shifts.Count, items[^1].Timings!.ContextShifts);
    }

    [Fact]
    public async Task Keep_protects_the_start_of_the_prompt()
    {
        var session = new ScriptedSession(16, Forever, VocabSize);
        await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos, Once, Upon], Greedy with { MaxTokens = 20, Keep = 2 }));
        Assert.Equal((3, 6), session.Shifts[0]); // BOS + 2 kept, (16 - 3) / 2 dropped
        Assert.Equal([Bos, Once, Upon], session.Cache.Take(3));
    }

    [Fact]
    public async Task Without_context_shift_a_full_context_ends_generation()
    {
        var session = new ScriptedSession(8, Forever, VocabSize);
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], Greedy with { ContextShift = false }));
        Assert.Equal(FinishReason.ContextFull, items[^1].FinishReason);
        Assert.Empty(session.Shifts);
        Assert.Equal(8, session.Cache.Count);
        Assert.Equal(8, items.Count - 1); // 7 evaluated + the one that did not fit
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_a_clear_error_and_changes_nothing()
    {
        var session = new ScriptedSession(4, Story, VocabSize);
        var error = await Assert.ThrowsAsync<PromptTooLongException>(() =>
            Collect(Generator.GenerateAsync(session, Tokenizer, [Bos, Once, Upon, A, Time], Greedy)));
        Assert.Equal("prompt is too long: 5 tokens, the context holds 4", error.Message);
        Assert.Empty(session.Cache);
    }

    [Fact]
    public async Task Invalid_options_are_rejected_before_anything_is_evaluated()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var bad = Greedy with { Sampling = new SamplingOptions { Temperature = -1 } };
        await Assert.ThrowsAsync<ArgumentException>(() => Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], bad)));
        await Assert.ThrowsAsync<ArgumentException>(() => Collect(Generator.GenerateAsync(session, Tokenizer, [Bos, 99], Greedy)));
        await Assert.ThrowsAsync<ArgumentException>(() => Collect(Generator.GenerateAsync(session, Tokenizer, [], Greedy)));
        Assert.Equal(0, session.EvaluatedTokens);
    }

    [Fact]
    public async Task Cancellation_stops_between_tokens_and_leaves_the_cache_consistent()
    {
        var session = new ScriptedSession(1024, Forever, VocabSize);
        var generator = new Generator(session, Tokenizer);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in generator.GenerateAsync([Bos], Greedy, cts.Token))
            {
                if (++seen == 5)
                    cts.Cancel();
            }
        });
        Assert.Equal(5, seen);
        Assert.Equal(session.Cache, generator.Tokens.Take(session.Cache.Count));
    }

    [Fact]
    public async Task Reuse_prefix_evaluates_only_what_differs()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var generator = new Generator(session, Tokenizer);
        await Collect(generator.GenerateAsync([Bos, Once, Upon, A], Greedy with { MaxTokens = 0 }));
        Assert.Equal(4, session.EvaluatedTokens);

        int[] prompt = [Bos, Once, Upon, The, End];
        var cached = generator.ReusePrefix(prompt);
        Assert.Equal(3, cached);
        var items = await Collect(generator.GenerateAsync(prompt[cached..], Greedy with { MaxTokens = 1 }));
        Assert.Equal(2, items[^1].Timings!.PromptTokens);
        Assert.Equal(6, session.EvaluatedTokens);
        Assert.Equal(".", items[0].Text); // the scripted model follows "end" with "."

        Assert.Equal(4, generator.ReusePrefix(prompt)); // a repeated prompt still evaluates its last token
    }

    [Fact]
    public async Task Log_probabilities_come_from_the_raw_logits()
    {
        var session = new ScriptedSession(64, Story, VocabSize);
        var items = await Collect(Generator.GenerateAsync(session, Tokenizer, [Bos], Greedy with { MaxTokens = 1, LogProbs = true, TopLogProbs = 2 }));
        // One logit of 10 among 13 zeros: log p = 10 - ln(e^10 + 12).
        var expected = (float)(10 - Math.Log(Math.Exp(10) + 12));
        Assert.Equal(expected, items[0].LogProb!.Value, 5);
        Assert.Equal(Once, items[0].TopLogProbs![0].Id);
        Assert.Equal((float)(0 - Math.Log(Math.Exp(10) + 12)), items[0].TopLogProbs![1].LogProb, 5);
    }

    [Fact]
    public void Timings_print_like_llama_cpp()
    {
        var timings = new GenerationTimings
        {
            PromptTokens = 6, PromptTime = TimeSpan.FromMilliseconds(30), EvalRuns = 47, EvalTime = TimeSpan.FromMilliseconds(470),
            SampledTokens = 48, SampleTime = TimeSpan.FromMilliseconds(4.8),
        };
        Assert.Equal(200, timings.PromptTokensPerSecond, 6);
        Assert.Equal(100, timings.EvalTokensPerSecond, 6);
        var text = timings.Format();
        Assert.Contains("  prompt eval time =      30.00 ms /     6 tokens (    5.00 ms per token,   200.00 tokens per second)", text);
        Assert.Contains("         eval time =     470.00 ms /    47 runs   (   10.00 ms per token,   100.00 tokens per second)", text);
    }
}
