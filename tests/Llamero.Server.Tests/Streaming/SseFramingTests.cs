using System.Net;
using System.Text.Json;
using Llamero.Server.Tests.Support;

namespace Llamero.Server.Tests.Streaming;

/// <summary>The raw bytes of a stream: exactly <c>data: {json}\n\n</c> events, usage last when asked, then <c>data: [DONE]\n\n</c>.</summary>
public sealed class SseFramingTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Engines.Default);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Splits a raw body into its events, asserting the framing on the way.</summary>
    internal static List<string> Events(string body)
    {
        Assert.EndsWith("data: [DONE]\n\n", body);
        var events = body.Split("\n\n");
        Assert.Equal("", events[^1]);
        var data = new List<string>();
        foreach (var e in events[..^1])
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
            data.Add(e["data: ".Length..]);
        }
        Assert.Equal("[DONE]", data[^1]);
        return data[..^1];
    }

    [Fact]
    public async Task Chat_stream_is_framed_exactly_and_ends_with_usage_then_done()
    {
        var response = await HttpAssert.PostJsonAsync(_server.Http, "/v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var chunks = Events(await response.Content.ReadAsStringAsync()).Select(j => JsonDocument.Parse(j).RootElement).ToList();

        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("length", finish.GetProperty("finish_reason").GetString());
        Assert.All(chunks[..^2], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));

        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(5, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.False(string.IsNullOrEmpty(text));
    }

    [Fact]
    public async Task Completion_stream_without_usage_has_no_usage_chunk()
    {
        var response = await HttpAssert.PostJsonAsync(_server.Http, "/v1/completions",
            """{"prompt":"Once upon a time","max_tokens":3,"temperature":0,"stream":true}""");
        var chunks = Events(await response.Content.ReadAsStringAsync()).Select(j => JsonDocument.Parse(j).RootElement).ToList();
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }
}
