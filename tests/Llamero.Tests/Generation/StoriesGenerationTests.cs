using Llamero.Chat;
using Llamero.Generation;
using static Llamero.Tests.Generation.GeneratedStreams;
using Llamero.Sampling;
using Llamero.Tests.Models;
using Llamero.Tests.Support;

namespace Llamero.Tests.Generation;

/// <summary>The generator, the facade and chat sessions on the real stories260K model.</summary>
public class StoriesGenerationTests
{
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy };

    [Fact]
    public async Task Greedy_from_bos_reproduces_the_golden_256_tokens_and_text()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 512 });
        var items = await Collect(llm.GenerateTokensAsync("", Greedy with { MaxTokens = 256 }));
        Assert.Equal(StoriesGolden.Instance.GeneratedIds, items.Where(i => !i.IsLast).Select(i => i.Id));
        var golden = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Shared("stories260K", "stories260K.greedy-from-bos.json")))
            .RootElement.GetProperty("generated_text").GetString();
        Assert.Equal(golden, string.Concat(items.Select(i => i.Text)));
        Assert.Equal(FinishReason.MaxTokens, items[^1].FinishReason);
        Assert.Equal(1, items[^1].Timings!.PromptTokens);
        Assert.Equal(255, items[^1].Timings!.EvalRuns);
    }

    [Fact]
    public async Task Same_seed_same_story_other_seed_other_story()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 256 });
        GenerationOptions Seeded(uint seed) => new() { MaxTokens = 48, Sampling = new SamplingOptions { Temperature = 1f, Seed = seed } };
        var a = await llm.CompleteAsync("Once upon a time", Seeded(7));
        var b = await llm.CompleteAsync("Once upon a time", Seeded(7));
        var c = await llm.CompleteAsync("Once upon a time", Seeded(8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.Length > 20, a);
    }

    [Fact]
    public async Task Repeated_prompt_reuses_the_cached_prefix()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 256 });
        await llm.CompleteAsync("Once upon a time, there was a dog", Greedy with { MaxTokens = 4 });
        var first = llm.LastTimings!.PromptTokens;
        await llm.CompleteAsync("Once upon a time, there was a cat", Greedy with { MaxTokens = 4 });
        Assert.True(llm.LastTimings!.PromptTokens < first, $"{llm.LastTimings.PromptTokens} vs {first}");
    }

    [Fact]
    public async Task Chat_turns_evaluate_only_new_tokens_on_the_real_model()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 512 });
        using var chat = llm.StartChat();
        var options = Greedy with { MaxTokens = 24 };
        await foreach (var _ in chat.SendAsync("Lily went to the park.", options)) { }
        var cachedAfterFirst = chat.CachedTokens;
        await foreach (var _ in chat.SendAsync("Then she saw a dog.", options)) { }
        var delta = llm.Tokenizer.Encode("\nThen she saw a dog.", addSpecial: false, parseSpecial: true).Length;
        // The new text, plus the first answer's last token (sampled but not yet evaluated when the turn hit -n).
        Assert.Equal(delta + 1, chat.LastTimings!.PromptTokens);
        Assert.True(chat.CachedTokens > cachedAfterFirst);
    }

    [Fact]
    public async Task Chat_turns_with_the_vicuna_orca_template_evaluate_only_new_tokens()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 512, ChatTemplate = "vicuna-orca" });
        using var chat = llm.StartChat("You tell stories.");
        var options = Greedy with { MaxTokens = 24 };
        await foreach (var _ in chat.SendAsync("Lily went to the park.", options)) { }
        var answer = chat.Messages[^1].Content;
        Assert.StartsWith(" ", answer); // rendered as "ASSISTANT:  ...": the cache no longer spells the next prompt
        await foreach (var _ in chat.SendAsync("Then she saw a dog.", options)) { }
        var added = llm.Tokenizer.Encode("</s>\nUSER: Then she saw a dog.\nASSISTANT:", addSpecial: false, parseSpecial: true).Length;
        Assert.InRange(chat.LastTimings!.PromptTokens, added, added + 1); // + the last answer token when -n cut it
    }

    [Fact]
    public async Task One_shot_chat_renders_the_template_and_stops_at_its_end_of_turn()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 256, ChatTemplate = "vicuna-orca" });
        var text = "";
        await foreach (var piece in llm.ChatAsync([ChatMessage.System("You tell stories."), ChatMessage.User("Tell me a story.")], Greedy with { MaxTokens = 32 }))
            text += piece;
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.DoesNotContain("USER:", text);
        var prompt = llm.ChatTemplate.Render([ChatMessage.System("You tell stories."), ChatMessage.User("Tell me a story.")], true);
        Assert.Equal(llm.Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true).Length, llm.LastTimings!.PromptTokens);
    }

    [Fact]
    public async Task One_generation_at_a_time_per_llm()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 64 });
        await using var first = llm.GenerateAsync("Once", Greedy with { MaxTokens = 8 }).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => llm.CompleteAsync("Once"));
        Assert.Contains("one generation at a time", error.Message);
        while (await first.MoveNextAsync()) { }
        Assert.NotEmpty(await llm.CompleteAsync("Once", Greedy with { MaxTokens = 4 }));
    }

    [Fact]
    public async Task Context_shift_keeps_generating_past_a_full_context()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 32 });
        var items = await Collect(llm.GenerateTokensAsync("Once upon a time", Greedy with { MaxTokens = 100, IgnoreEos = true }));
        Assert.Equal(FinishReason.MaxTokens, items[^1].FinishReason);
        Assert.Equal(101, items.Count);
        Assert.True(items[^1].Timings!.ContextShifts >= 3);

        var stopped = await Collect(llm.GenerateTokensAsync("Once upon a time", Greedy with { IgnoreEos = true, ContextShift = false }));
        Assert.Equal(FinishReason.ContextFull, stopped[^1].FinishReason);
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_names_the_counts()
    {
        using var llm = Llm.Load(TestPaths.Stories260K, new LlmOptions { ContextSize = 16 });
        var error = await Assert.ThrowsAsync<PromptTooLongException>(() =>
            llm.CompleteAsync(string.Join(' ', Enumerable.Repeat("Once upon a time there was a girl.", 4))));
        Assert.Equal(16, error.ContextSize);
        Assert.True(error.PromptTokens > 16);
    }
}
