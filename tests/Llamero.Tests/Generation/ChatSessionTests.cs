using Llamero.Chat;
using Llamero.Generation;
using Llamero.Sampling;
using static Llamero.Tests.Generation.ScriptedModel;

namespace Llamero.Tests.Generation;

/// <summary>Chat turns on a scripted model: the cache keeps earlier turns, failures leave no trace.</summary>
public class ChatSessionTests
{
    private static readonly GenerationOptions Greedy = new() { Sampling = SamplingOptions.Greedy };

    private static async Task<string> Send(ChatSession chat, string message, GenerationOptions? options = null, CancellationToken token = default)
    {
        var text = "";
        await foreach (var piece in chat.SendAsync(message, options ?? Greedy, token))
            text += piece;
        return text;
    }

    [Fact]
    public async Task Second_turn_evaluates_only_the_new_text()
    {
        var session = new ScriptedSession(256, Story, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);

        Assert.Equal(" Once upon a time, the end.", await Send(chat, "Hi there"));
        Assert.Equal(FinishReason.EndOfGeneration, chat.LastFinishReason);
        Assert.Equal(Tokenizer.Encode("Hi there").Length, chat.LastTimings!.PromptTokens);
        var afterFirst = session.EvaluatedTokens;
        var cachedFirst = session.Cache.ToArray();

        await Send(chat, "Go on");
        // The completion template adds "\nGo on": only its tokens are new, the first turn stays cached.
        var newTokens = Tokenizer.Encode("\nGo on", addSpecial: false, parseSpecial: true).Length;
        Assert.Equal(newTokens, chat.LastTimings!.PromptTokens);
        Assert.Equal(afterFirst + newTokens + chat.LastTimings.EvalRuns, session.EvaluatedTokens);
        Assert.Equal(cachedFirst, session.Cache.Take(cachedFirst.Length));
        Assert.Equal(
            [ChatMessage.User("Hi there"), ChatMessage.Assistant(" Once upon a time, the end."), ChatMessage.User("Go on"), ChatMessage.Assistant(chat.Messages[3].Content)],
            chat.Messages);
    }

    [Fact]
    public async Task A_turn_cut_by_max_tokens_continues_with_its_last_token()
    {
        var session = new ScriptedSession(256, Story, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);
        Assert.Equal(" Once upon", await Send(chat, "Hi", Greedy with { MaxTokens = 2 }));
        var before = session.EvaluatedTokens;
        await Send(chat, "Go", Greedy with { MaxTokens = 0 });
        // the pending "upon" plus the new text
        Assert.Equal(1 + Tokenizer.Encode("\nGo", addSpecial: false, parseSpecial: true).Length, session.EvaluatedTokens - before);
    }

    [Fact]
    public async Task Rejected_turns_leave_the_conversation_and_cache_untouched()
    {
        var session = new ScriptedSession(8, Story, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);
        await Send(chat, "Once", Greedy with { MaxTokens = 1 });
        var messages = chat.Messages.ToArray();
        var cache = session.Cache.ToArray();

        await Assert.ThrowsAsync<ArgumentException>(() => Send(chat, "Once", Greedy with { Sampling = new SamplingOptions { TopP = 1.5f } }));
        await Assert.ThrowsAsync<PromptTooLongException>(() => Send(chat, string.Join(' ', Enumerable.Repeat("Once upon a time", 5))));
        Assert.Equal(messages, chat.Messages);
        Assert.Equal(cache, session.Cache);
    }

    [Fact]
    public async Task Cancelled_answer_is_kept_as_far_as_it_got()
    {
        var session = new ScriptedSession(256, Forever, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);
        using var cts = new CancellationTokenSource();
        var pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in chat.SendAsync("Once", Greedy, cts.Token))
            {
                if (++pieces == 3)
                    cts.Cancel();
            }
        });
        Assert.Equal(" a time a", chat.Messages[^1].Content);
        Assert.Equal(2, chat.Messages.Count);
        // The conversation goes on after a cancelled answer.
        Assert.Equal(" a", await Send(chat, "Once", Greedy with { MaxTokens = 1 }));
    }

    [Fact]
    public async Task Save_and_load_restore_the_conversation()
    {
        var session = new ScriptedSession(256, Story, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance, systemPrompt: "Once");
        await Send(chat, "upon");
        var path = Path.Combine(Support.TestPaths.NewTempDir(), "chat.json");
        chat.Save(path);

        var otherSession = new ScriptedSession(256, Story, VocabSize);
        using var other = new ChatSession(new Generator(otherSession, Tokenizer), CompletionTemplate.Instance);
        other.Load(path);
        Assert.Equal(chat.Messages, other.Messages);
        Assert.Equal("Once", other.SystemPrompt);
        // The next turn rebuilds the saved cache token for token, then adds only the new text.
        await Send(chat, "Go", Greedy with { MaxTokens = 0 });
        await Send(other, "Go", Greedy with { MaxTokens = 0 });
        Assert.Equal(session.Cache, otherSession.Cache);

        chat.Reset();
        Assert.Equal([ChatMessage.System("Once")], chat.Messages);
        Assert.Empty(session.Cache);

        File.WriteAllText(path, "{ not json");
        Assert.Throws<InvalidDataException>(() => other.Load(path));
    }

    [Fact]
    public async Task Conversation_longer_than_the_context_keeps_going_by_shifting()
    {
        var session = new ScriptedSession(32, Forever, VocabSize);
        using var chat = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);
        var delta = Tokenizer.Encode("\nHi", addSpecial: false, parseSpecial: true).Length + 1; // + the pending last answer token
        for (var i = 0; i < 6; i++)
        {
            await Send(chat, "Hi", Greedy with { MaxTokens = 10 });
            if (i > 0)
                Assert.Equal(delta, chat.LastTimings!.PromptTokens);
        }
        Assert.Equal(12, chat.Messages.Count);
        Assert.NotEmpty(session.Shifts);
    }

    [Fact]
    public async Task Loaded_conversation_too_long_for_the_context_leaves_out_its_oldest_turns()
    {
        using var big = new ChatSession(new Generator(new ScriptedSession(512, Forever, VocabSize), Tokenizer), CompletionTemplate.Instance, "Once");
        for (var i = 0; i < 6; i++)
            await Send(big, "Hi", Greedy with { MaxTokens = 10 });
        var path = Path.Combine(Support.TestPaths.NewTempDir(), "chat.json");
        big.Save(path);

        var session = new ScriptedSession(48, Forever, VocabSize);
        using var small = new ChatSession(new Generator(session, Tokenizer), CompletionTemplate.Instance);
        small.Load(path);
        await Send(small, "Hi", Greedy with { MaxTokens = 2 });
        Assert.InRange(small.LastTimings!.PromptTokens, 1, 36);
        Assert.Equal(15, small.Messages.Count); // the conversation itself is whole
    }

    [Fact]
    public void Unknown_template_name_lists_the_valid_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => CompletionTemplate.Resolve("nope", null));
        Assert.Contains("unknown chat template 'nope'", error.Message);
        Assert.Contains("chatml", error.Message);
        Assert.Contains("completion", error.Message);
        Assert.Same(CompletionTemplate.Instance, CompletionTemplate.Resolve(null, null));
        Assert.Equal("vicuna-orca", CompletionTemplate.Resolve("orca-vicuna", null).Name);
    }

    [Fact]
    public void Completion_template_is_plain_text()
    {
        var text = CompletionTemplate.Instance.Render(
            [ChatMessage.System("S"), ChatMessage.User("Once"), ChatMessage.Assistant(" upon"), ChatMessage.User("Then")], true);
        Assert.Equal("S\nOnce upon\nThen", text);
    }
}
