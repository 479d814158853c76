using System.ClientModel;
using System.Net.Http.Json;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Llamero.Server.Tests.Clients;

/// <summary>The official OpenAI .NET SDK against the real server: chat, streaming, completions, embeddings, models, wrong key.</summary>
public sealed class OpenAiSdkTests : IAsyncLifetime
{
    private const string Key = "test-key-123";
    private TestServer _server = null!;
    private OpenAIClient _client = null!;
    private string _model = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Engines.Default, new ServerOptions { ApiKey = Key });
        _client = Client(Key);
        _model = (await _server.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/v1/models")).GetProperty("data")[0].GetProperty("id").GetString()!;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private OpenAIClient Client(string key) => new(new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(_server.BaseAddress, "v1"),
        NetworkTimeout = TimeSpan.FromSeconds(30),
    });

    [Fact]
    public async Task Chat_completion()
    {
        ChatCompletion completion = await _client.GetChatClient(_model).CompleteChatAsync(
            [new SystemChatMessage("You tell short stories."), new UserChatMessage("Tell me a story.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0, Seed = 42 });
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(_model, completion.Model);
    }

    [Fact]
    public async Task Streaming_chat_matches_the_plain_answer()
    {
        var chat = _client.GetChatClient(_model);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 10, Temperature = 0 };
        ChatCompletion plain = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.True(updates > 2);
        Assert.Equal(plain.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.Equal(10, usage?.OutputTokenCount); // the SDK asks for stream_options.include_usage
    }

    [Fact]
    public async Task Legacy_completion_through_the_sdk_pipeline()
    {
        // SDK 2.x keeps its completions client internal; its public pipeline (auth, retries, error mapping) sends the request.
        var pipeline = _client.GetChatClient(_model).Pipeline;
        using var message = pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(_server.BaseAddress, "v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = System.ClientModel.BinaryContent.Create(BinaryData.FromString(
            $$"""{"model":"{{_model}}","prompt":"Once upon a time","max_tokens":6,"temperature":0}"""));
        await pipeline.SendAsync(message);
        Assert.Equal(200, message.Response!.Status);
        var json = System.Text.Json.JsonDocument.Parse(message.Response.Content.ToString()).RootElement;
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(6, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_are_refused_cleanly_until_the_model_exposes_hidden_states()
    {
        // The model has no hidden-state hook yet: the route validates the request, then answers 501 in OpenAI's shape.
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            _client.GetEmbeddingClient(_model).GenerateEmbeddingsAsync(["one day", "a cat"]));
        Assert.Equal(501, error.Status);
        Assert.Contains("hidden states", error.Message);
    }

    [Fact]
    public async Task Model_list_has_the_loaded_model()
    {
        var models = (await _client.GetOpenAIModelClient().GetModelsAsync()).Value;
        var model = Assert.Single(models);
        Assert.Equal(_model, model.Id);
        Assert.Equal("llamero", model.OwnedBy);
        Assert.Equal(_model, (await _client.GetOpenAIModelClient().GetModelAsync(_model)).Value.Id);
    }

    [Fact]
    public async Task Wrong_key_is_401()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            Client("wrong-key").GetChatClient(_model).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, error.Status);
        Assert.Contains("Incorrect API key", error.Message);
    }

    [Fact]
    public async Task Unknown_model_is_404()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            _client.GetChatClient("gpt-nothing").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, error.Status);
    }
}
