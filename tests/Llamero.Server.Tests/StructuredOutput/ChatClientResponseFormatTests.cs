using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Llamero.Extensions.AI;
using Llamero.Server.Tests.Support;
using Microsoft.Extensions.AI;

namespace Llamero.Server.Tests.StructuredOutput;

/// <summary><see cref="ChatOptions.ResponseFormat"/> through the in-process <see cref="IChatClient"/>: JSON mode, a schema, and typed structured output.</summary>
public sealed class ChatClientResponseFormatTests : IDisposable
{
    private readonly Engine.IInferenceEngine _engine = Engines.Default();
    private readonly LlameroChatClient _client;

    public ChatClientResponseFormatTests() =>
        _client = new LlameroChatClient(() => _engine.CreateSession(512), _engine.Tokenizer, _engine.Template, _engine.ModelId, maxConcurrency: 1);

    public void Dispose()
    {
        _client.Dispose();
        _engine.Dispose();
    }

    /// <summary>What typed structured output asks for (the schema comes from the type).</summary>
    public sealed record Pet([property: MaxLength(8)] string Name, bool Happy);

    [Fact]
    public async Task Json_format_keeps_the_answer_on_json()
    {
        var response = await _client.GetResponseAsync("Describe a cat.", new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 60, Seed = 3 });
        var matcher = Llamero.Sampling.Grammars.Grammar.JsonObject.CreateMatcher();
        Assert.True(matcher.Accept(response.Text), response.Text);
        if (response.FinishReason == ChatFinishReason.Stop)
            JsonDocument.Parse(response.Text).Dispose();
    }

    [Fact]
    public async Task Schema_format_answers_follow_the_schema()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"n":{"type":"integer"},"ok":{"type":"boolean"}},"required":["n","ok"],"additionalProperties":false}""").RootElement;
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "numbers"), MaxOutputTokens = 200, Seed = 1 };
        var response = await _client.GetResponseAsync("Give me a number.", options);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var root = JsonDocument.Parse(response.Text).RootElement;
        Assert.True(root.GetProperty("n").TryGetInt64(out _));
        Assert.True(root.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }

    [Fact]
    public async Task Typed_structured_output_deserializes()
    {
        var response = await _client.GetResponseAsync<Pet>("Describe a pet.", new ChatOptions { MaxOutputTokens = 200, Seed = 2, Temperature = 0.7f });
        var schema = ((ChatResponseFormatJson)ChatResponseFormat.ForJsonSchema<Pet>()).Schema!.Value.GetRawText();
        Assert.True(response.TryGetResult(out var pet), $"{response.Text} (schema {schema})");
        Assert.Contains("maxLength", schema); // [MaxLength] bounds the name, so the answer always ends
        Assert.True(pet!.Name.Length <= 8);
    }

    [Fact]
    public async Task Unsupported_schema_keyword_throws_naming_it()
    {
        var schema = JsonDocument.Parse("""{"type":"string","not":{"const":"a"}}""").RootElement;
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            _client.GetResponseAsync("hi", new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "s") }));
        Assert.Contains("unsupported keyword 'not'", error.Message);
        Assert.Contains("'s'", error.Message);
    }

    [Fact]
    public async Task A_gbnf_grammar_in_additional_properties_constrains_the_answer()
    {
        var options = new ChatOptions { MaxOutputTokens = 10, Seed = 4, AdditionalProperties = new() { ["grammar"] = "root ::= \" \" (\"yes\" | \"no\")" } };
        var response = await _client.GetResponseAsync("Is it?", options);
        Assert.Contains(response.Text, (string[])[" yes", " no"]);
        options.AdditionalProperties["grammar"] = "root ::= (";
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.GetResponseAsync("Is it?", options));
        Assert.Contains("grammar: grammar error at line 1, column 11", error.Message);
    }
}
