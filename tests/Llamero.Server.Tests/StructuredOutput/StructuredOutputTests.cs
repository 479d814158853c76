using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Llamero.Server.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Llamero.Server.Tests.StructuredOutput;

/// <summary>
/// JSON mode, JSON Schema and GBNF grammars through the server, asked for with the official OpenAI .NET SDK and with
/// llama.cpp server's fields, answered by the real stories260K model (whose free text is never JSON).
/// </summary>
public sealed class StructuredOutputTests : IAsyncLifetime
{
    // Every part is bounded, so the answer must end well inside max_tokens.
    private const string PetSchema = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":8},"legs":{"enum":[2,4]},"happy":{"type":"boolean"}},
         "required":["name","legs","happy"],"additionalProperties":false}
        """;

    private TestServer _server = null!;
    private ChatClient _chat = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Engines.Default);
        var model = (await _server.Http.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data")[0].GetProperty("id").GetString()!;
        _chat = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(_server.BaseAddress, "v1"),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        }).GetChatClient(model);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ChatCompletionOptions Options(ChatResponseFormat format, int maxTokens, long seed, float temperature) => new()
    {
        ResponseFormat = format,
        MaxOutputTokenCount = maxTokens,
        Seed = seed,
        Temperature = temperature,
    };

    private static ChatResponseFormat PetFormat => ChatResponseFormat.CreateJsonSchemaFormat("pet", BinaryData.FromString(PetSchema), jsonSchemaIsStrict: true);

    private static void AssertPet(string text)
    {
        using var document = JsonDocument.Parse(text);
        var pet = document.RootElement;
        Assert.Equal(["name", "legs", "happy"], pet.EnumerateObject().Select(p => p.Name));
        Assert.True(pet.GetProperty("name").GetString()!.Length <= 8);
        Assert.Contains(pet.GetProperty("legs").GetInt32(), (int[])[2, 4]);
        Assert.True(pet.GetProperty("happy").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }

    [Theory]
    [InlineData(1, 0f)]
    [InlineData(2, 0.8f)]
    [InlineData(3, 1.2f)]
    public async Task Json_object_answers_are_json(long seed, float temperature)
    {
        ChatCompletion answer = await _chat.CompleteChatAsync([new UserChatMessage("Describe a cat as JSON.")],
            Options(ChatResponseFormat.CreateJsonObjectFormat(), 80, seed, temperature));
        var text = answer.Content[0].Text;
        var matcher = Llamero.Sampling.Grammars.Grammar.JsonObject.CreateMatcher();
        Assert.True(matcher.Accept(text), $"not JSON: {text}");
        if (answer.FinishReason == ChatFinishReason.Stop)
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(text).RootElement.ValueKind);
        else
            Assert.Equal(ChatFinishReason.Length, answer.FinishReason); // cut by max_tokens: still a JSON prefix
    }

    [Theory]
    [InlineData(1, 0f)]
    [InlineData(4, 0.8f)]
    [InlineData(5, 1.5f)]
    public async Task Json_schema_answers_follow_the_schema(long seed, float temperature)
    {
        ChatCompletion answer = await _chat.CompleteChatAsync([new UserChatMessage("Describe a pet.")], Options(PetFormat, 300, seed, temperature));
        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        AssertPet(answer.Content[0].Text);
    }

    [Fact]
    public async Task Streamed_json_schema_answer_follows_the_schema_and_equals_the_plain_one()
    {
        var options = Options(PetFormat, 300, 9, 0.9f);
        ChatCompletion plain = await _chat.CompleteChatAsync([new UserChatMessage("A pet, please.")], options);
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in _chat.CompleteChatStreamingAsync([new UserChatMessage("A pet, please.")], options))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.Stop, finish);
        AssertPet(text.ToString());
        Assert.Equal(plain.Content[0].Text, text.ToString());
    }

    private async Task<JsonElement> PostAsync(string path, string json)
    {
        var response = await HttpAssert.PostJsonAsync(_server.Http, path, json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Completions_take_llama_cpp_grammar_and_json_schema_fields()
    {
        var grammar = JsonSerializer.Serialize("root ::= (\"yes\" | \"no\") \".\"");
        var answer = await PostAsync("/v1/completions", $$"""{"prompt":"Once upon a time","max_tokens":10,"temperature":1,"seed":3,"grammar":{{grammar}}}""");
        var choice = answer.GetProperty("choices")[0];
        Assert.Contains(choice.GetProperty("text").GetString(), (string[])["yes.", "no."]);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        answer = await PostAsync("/v1/completions", $$"""{"prompt":"Once upon a time","max_tokens":300,"seed":4,"json_schema":{{PetSchema}}}""");
        AssertPet(answer.GetProperty("choices")[0].GetProperty("text").GetString()!);

        answer = await PostAsync("/v1/chat/completions", $$$"""{"messages":[{"role":"user","content":"hi"}],"max_tokens":300,"seed":5,"response_format":{"type":"json_object","schema":{{{PetSchema}}}}}""");
        AssertPet(answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
    }

    [Fact]
    public async Task Json_schema_with_pattern_integer_bounds_and_format_is_followed()
    {
        const string schema = """
            {"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-\\d{2}$"},"n":{"type":"integer","minimum":-5,"maximum":5},
             "day":{"type":"string","format":"date"}},"required":["code","n","day"]}
            """;
        var answer = await PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"hi"}],"max_tokens":200,"seed":6,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":"""
            + schema + "}}}");
        var choice = answer.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        using var document = JsonDocument.Parse(choice.GetProperty("message").GetProperty("content").GetString()!);
        Assert.Matches("^[A-Z]{3}-[0-9]{2}$", document.RootElement.GetProperty("code").GetString());
        Assert.InRange(document.RootElement.GetProperty("n").GetInt32(), -5, 5);
        Assert.Matches("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", document.RootElement.GetProperty("day").GetString());
    }

    [Fact]
    public async Task Streamed_completion_with_a_grammar()
    {
        var grammar = JsonSerializer.Serialize("root ::= [0-9]{3} \"!\"");
        var response = await HttpAssert.PostJsonAsync(_server.Http, "/v1/completions",
            $$"""{"prompt":"Once","max_tokens":20,"stream":true,"seed":1,"grammar":{{grammar}}}""");
        var body = await response.Content.ReadAsStringAsync();
        var text = new StringBuilder();
        foreach (var line in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (line != "data: [DONE]")
                text.Append(JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("choices").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } c ? c.GetProperty("text").GetString() : "");
        }
        Assert.Matches("^[0-9]{3}!$", text.ToString());
    }

    [Theory]
    [InlineData("\"grammar\":\"root ::= [a-\"", "grammar", "grammar error at line 1, column 10: unterminated character class")]
    [InlineData("\"grammar\":\"root ::= foo\"", "grammar", "undefined rule 'foo'")]
    [InlineData("\"json_schema\":{\"type\":\"string\",\"pattern\":\"^a(?=b)$\"}", "json_schema", "JSON schema at #: pattern '^a(?=b)$': lookahead '(?=' at offset 2 is not supported")]
    [InlineData("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":2,\"maximum\":1}}}}}",
        "response_format.json_schema.schema", "JSON schema at #/properties/n: no integer lies between the bounds (at least 2, at most 1)")]
    [InlineData("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"minProperties\":1}}}",
        "response_format.json_schema.schema", "JSON schema at #: unsupported keyword 'minProperties'")]
    [InlineData("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}", "response_format.json_schema.schema", "needs json_schema.schema")]
    [InlineData("\"response_format\":{\"type\":\"xml\"}", "response_format.type", "must be one of text, json_object, json_schema; got 'xml'")]
    [InlineData("\"response_format\":{\"type\":\"json_object\"},\"grammar\":\"root ::= \\\"a\\\"\"", "grammar", "Give only one of")]
    public async Task Bad_constraints_are_400_in_openai_shape(string field, string param, string message)
    {
        foreach (var path in (string[])["/v1/chat/completions", "/v1/completions"])
        {
            var prompt = path.Contains("chat") ? "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" : "\"prompt\":\"hi\"";
            var error = await HttpAssert.ErrorAsync(await HttpAssert.PostJsonAsync(_server.Http, path, $"{{{prompt},{field}}}"), HttpStatusCode.BadRequest);
            Assert.Contains(message, error.Message());
            Assert.Equal(param, error.Param());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task A_grammar_that_turns_out_too_ambiguous_is_a_400_not_a_server_error()
    {
        // Every letter pushes one of two different closings, so the live parses double with each one; the model's
        // story text is all letters and spaces, so the matcher gives up a dozen letters in. Only generating shows it.
        var grammar = JsonSerializer.Serialize("root ::= [a-z ] root \"1\" | [a-z ] root \"2\" | \"\"");
        var body = $$"""{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"grammar":{{grammar}}}""";
        var error = await HttpAssert.ErrorAsync(await HttpAssert.PostJsonAsync(_server.Http, "/v1/completions", body), HttpStatusCode.BadRequest);
        Assert.Contains("too ambiguous", error.Message());
        Assert.Equal("grammar", error.Param());
    }

    [Fact]
    public async Task Sdk_surfaces_a_bad_schema_as_a_400()
    {
        var bad = ChatResponseFormat.CreateJsonSchemaFormat("bad", BinaryData.FromString("""{"type":"string","not":{"const":"x"}}"""));
        var error = await Assert.ThrowsAsync<ClientResultException>(() => _chat.CompleteChatAsync([new UserChatMessage("hi")], Options(bad, 5, 1, 0)));
        Assert.Equal(400, error.Status);
        Assert.Contains("unsupported keyword 'not'", error.Message);
    }
}
