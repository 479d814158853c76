using System.Net;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;

namespace Llamero.Server.Tests.Errors;

/// <summary>Every refusal the API documents, with raw HTTP: status, OpenAI's error shape, and a message naming the numbers.</summary>
public sealed class RequestErrorTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(Engines.Default, new ServerOptions { MaxBodyBytes = 64 * 1024 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<HttpResponseMessage> Chat(string json) => HttpAssert.PostJsonAsync(_server.Http, "/v1/chat/completions", json);

    private const string Hello = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    [Fact]
    public async Task Malformed_json_is_400()
    {
        var error = await HttpAssert.ErrorAsync(await Chat("{\"messages\": [}"), HttpStatusCode.BadRequest);
        Assert.Contains("not valid JSON", error.Message());
    }

    [Fact]
    public async Task Empty_body_is_400() =>
        Assert.Contains("empty", (await HttpAssert.ErrorAsync(await Chat(""), HttpStatusCode.BadRequest)).Message());

    [Fact]
    public async Task Unknown_field_is_400_naming_it()
    {
        var error = await HttpAssert.ErrorAsync(await Chat($"{{{Hello},\"temprature\":0.5}}"), HttpStatusCode.BadRequest);
        Assert.Equal("Unrecognized request argument supplied: temprature", error.Message());
        Assert.Equal("temprature", error.Param());
    }

    [Fact]
    public async Task Wrongly_typed_field_is_400_naming_it()
    {
        var error = await HttpAssert.ErrorAsync(await Chat($"{{{Hello},\"temperature\":\"hot\"}}"), HttpStatusCode.BadRequest);
        Assert.Equal("temperature", error.Param());
        Assert.Contains("temperature", error.Message());
    }

    [Theory]
    [InlineData("\"temperature\":2.5", "temperature", "2.5")]
    [InlineData("\"top_p\":1.5", "top_p", "1.5")]
    [InlineData("\"top_k\":-1", "top_k", "-1")]
    [InlineData("\"min_p\":-0.1", "min_p", "-0.1")]
    [InlineData("\"frequency_penalty\":3", "frequency_penalty", "3")]
    [InlineData("\"presence_penalty\":-2.5", "presence_penalty", "-2.5")]
    [InlineData("\"repeat_penalty\":0", "repeat_penalty", "0")]
    [InlineData("\"max_tokens\":0", "max_tokens", "0")]
    [InlineData("\"max_tokens\":100000", "max_tokens", "100000")]
    [InlineData("\"n\":2", "n", "2")]
    [InlineData("\"logit_bias\":{\"99999\":1}", "logit_bias", "99999")]
    [InlineData("\"logit_bias\":{\"5\":101}", "logit_bias[5]", "101")]
    [InlineData("\"logprobs\":true,\"top_logprobs\":21", "top_logprobs", "21")]
    [InlineData("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "stop", "5")]
    public async Task Out_of_range_values_are_400_with_the_value(string field, string param, string value)
    {
        var error = await HttpAssert.ErrorAsync(await Chat($"{{{Hello},{field}}}"), HttpStatusCode.BadRequest);
        Assert.Equal(param, error.Param());
        Assert.Contains(value, error.Message());
    }

    [Fact]
    public async Task Bad_role_and_missing_messages_are_400()
    {
        Assert.Equal("messages[0].role", (await HttpAssert.ErrorAsync(
            await Chat("""{"messages":[{"role":"wizard","content":"x"}]}"""), HttpStatusCode.BadRequest)).Param());
        Assert.Equal("messages", (await HttpAssert.ErrorAsync(await Chat("{}"), HttpStatusCode.BadRequest)).Param());
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_400_with_both_counts()
    {
        var context = _server.Server.ContextSize;
        var response = await HttpAssert.PostJsonAsync(_server.Http, "/v1/completions",
            $$"""{"prompt":"{{new string('x', context * 8)}}"}""");
        var error = await HttpAssert.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Contains($"{context} tokens", error.Message());
        Assert.Matches(@"your prompt is \d+ tokens", error.Message());
    }

    [Fact]
    public async Task Unknown_model_is_404()
    {
        var error = await HttpAssert.ErrorAsync(await Chat($"{{{Hello},\"model\":\"gpt-9\"}}"), HttpStatusCode.NotFound);
        Assert.Contains("gpt-9", error.Message());
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        await HttpAssert.ErrorAsync(await _server.Http.GetAsync("/v1/models/gpt-9"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Unknown_route_is_404() =>
        Assert.Contains("/v1/nothing", (await HttpAssert.ErrorAsync(await _server.Http.GetAsync("/v1/nothing"), HttpStatusCode.NotFound)).Message());

    [Fact]
    public async Task Oversized_body_is_413()
    {
        var big = $$"""{"messages":[{"role":"user","content":"{{new string('a', 100 * 1024)}}"}]}""";
        var error = await HttpAssert.ErrorAsync(await Chat(big), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536", error.Message());
    }

    [Fact]
    public async Task Oversized_chunked_body_is_413()
    {
        var content = new StreamContent(new MemoryStream(new byte[200 * 1024]));
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        await HttpAssert.ErrorAsync(await _server.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Token_ids_out_of_range_are_400()
    {
        var error = await HttpAssert.ErrorAsync(
            await HttpAssert.PostJsonAsync(_server.Http, "/detokenize", """{"tokens":[1,-5]}"""), HttpStatusCode.BadRequest);
        Assert.Contains("tokens[1] = -5", error.Message());
        await HttpAssert.ErrorAsync(
            await HttpAssert.PostJsonAsync(_server.Http, "/v1/completions", """{"prompt":[1,2,1000000]}"""), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Embedding_requests_are_validated_before_anything_else()
    {
        Assert.Equal("input", (await HttpAssert.ErrorAsync(
            await HttpAssert.PostJsonAsync(_server.Http, "/v1/embeddings", """{"input":[]}"""), HttpStatusCode.BadRequest)).Param());
        Assert.Equal("encoding_format", (await HttpAssert.ErrorAsync(
            await HttpAssert.PostJsonAsync(_server.Http, "/v1/embeddings", """{"input":"a","encoding_format":"hex"}"""), HttpStatusCode.BadRequest)).Param());
        var error = await HttpAssert.ErrorAsync(
            await HttpAssert.PostJsonAsync(_server.Http, "/v1/embeddings", """{"input":"a"}"""), HttpStatusCode.NotImplemented);
        Assert.Equal("not_implemented", error.GetProperty("code").GetString());
    }
}
