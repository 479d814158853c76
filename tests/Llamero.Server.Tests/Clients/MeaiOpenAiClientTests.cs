using System.ClientModel;
using Llamero.Server.Tests.Support;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Llamero.Server.Tests.Clients;

/// <summary>Microsoft.Extensions.AI.OpenAI's IChatClient and IEmbeddingGenerator, pointed at the server.</summary>
public sealed class MeaiOpenAiClientTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private IChatClient _chat = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Engines.Default);
        var openai = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "v1") });
        _chat = openai.GetChatClient(_server.Server.ModelId).AsIChatClient();
    }

    public async Task DisposeAsync()
    {
        _chat.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Plain_and_streaming_through_IChatClient()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 7, TopP = 0.9f, Seed = 3, StopSequences = ["zzzz"] };
        ChatResponse response = await _chat.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Stories only."), new ChatMessage(ChatRole.User, "Once upon a time")], options);
        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(7, response.Usage?.OutputTokenCount);

        var streamed = await _chat.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.System, "Stories only."), new ChatMessage(ChatRole.User, "Once upon a time")], options).ToChatResponseAsync();
        Assert.Equal(response.Text, streamed.Text);
        Assert.Equal(7, streamed.Usage?.OutputTokenCount);
    }
}
