using Llamero.Extensions.AI;
using Llamero.Server.Tests.Support;
using Microsoft.Extensions.AI;

namespace Llamero.Server.Tests.Clients;

/// <summary>The in-process <see cref="IChatClient"/>: plain, streaming, options mapped, concurrent calls, ChatClientBuilder.</summary>
public sealed class LlameroChatClientTests : IDisposable
{
    private readonly Engine.IInferenceEngine _engine = Engines.Default();
    private readonly LlameroChatClient _client;

    public LlameroChatClientTests() =>
        _client = new LlameroChatClient(() => _engine.CreateSession(256), _engine.Tokenizer, _engine.Template, _engine.ModelId, maxConcurrency: 2);

    public void Dispose()
    {
        _client.Dispose();
        _engine.Dispose();
    }

    private static readonly ChatOptions Greedy = new() { Temperature = 0, MaxOutputTokens = 6 };

    [Fact]
    public async Task Plain_and_streaming_answers_agree()
    {
        var response = await _client.GetResponseAsync("Once upon a time", Greedy);
        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(6, response.Usage?.OutputTokenCount);
        Assert.Equal(_engine.ModelId, response.ModelId);

        var updates = await _client.GetStreamingResponseAsync("Once upon a time", Greedy).ToListAsync();
        Assert.True(updates.Count >= 6);
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
    }

    [Fact]
    public async Task Stop_sequences_end_the_answer_before_the_stop()
    {
        var full = (await _client.GetResponseAsync("Once upon a time", Greedy)).Text;
        var stop = full.Substring(full.Length / 2, 2);
        var options = Greedy.Clone();
        options.StopSequences = [stop];
        var response = await _client.GetResponseAsync("Once upon a time", options);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], response.Text);
    }

    [Fact]
    public async Task Out_of_range_options_throw_naming_the_option()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.GetResponseAsync("hi", new ChatOptions { TopP = 0 }));
        Assert.Contains("top-p", error.Message);
    }

    [Fact]
    public async Task Concurrent_calls_all_complete_with_the_same_greedy_answer()
    {
        var expected = (await _client.GetResponseAsync("Once upon a time", Greedy)).Text;
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => _client.GetResponseAsync("Once upon a time", Greedy))));
        Assert.All(answers, a => Assert.Equal(expected, a.Text));
    }

    [Fact]
    public async Task A_follow_up_turn_reuses_the_cached_conversation()
    {
        List<ChatMessage> history = [new(ChatRole.User, "Once upon a time")];
        var first = await _client.GetResponseAsync(history, Greedy);
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.User, "Then"));
        var second = await _client.GetResponseAsync(history, Greedy);
        Assert.True(second.Usage?.CachedInputTokenCount > 0, "the second turn re-evaluated the whole conversation");
    }

    [Fact]
    public async Task Works_through_ChatClientBuilder()
    {
        IChatClient pipeline = new ChatClientBuilder(_client).ConfigureOptions(o => { o.Temperature = 0; o.MaxOutputTokens = 3; }).Build();
        var response = await pipeline.GetResponseAsync("Hello");
        Assert.Equal(3, response.Usage?.OutputTokenCount);
        Assert.Same(_client, pipeline.GetService<LlameroChatClient>());
    }
}
