using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;

namespace Llamero.Server.Tests.Scheduling;

/// <summary>What the slots do with the real stories260K model: prefix reuse, stop strings, seeds, logprobs, tokenize.</summary>
public sealed class GenerationFeatureTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(Engines.Default, new ServerOptions { Parallel = 1 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonElement> PostAsync(string path, string json)
    {
        var response = await HttpAssert.PostJsonAsync(_server.Http, path, json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task A_follow_up_turn_evaluates_only_its_new_tokens()
    {
        var first = await PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Once upon a time there was a dog"}],"max_tokens":10,"temperature":0}""");
        var answer = first.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        var firstPrompt = first.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

        var second = await PostAsync("/v1/chat/completions", JsonSerializer.Serialize(new
        {
            messages = new object[]
            {
                new { role = "user", content = "Once upon a time there was a dog" },
                new { role = "assistant", content = answer },
                new { role = "user", content = "The dog ran" },
            },
            max_tokens = 5,
            temperature = 0,
        }));
        var usage = second.GetProperty("usage");
        var cached = usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        Assert.True(cached >= firstPrompt, $"only {cached} of the first turn's {firstPrompt} prompt tokens were reused");
        Assert.True(cached < usage.GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Stop_strings_cut_the_answer_and_finish_with_stop()
    {
        var full = (await PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":30,"temperature":0}"""))
            .GetProperty("choices")[0].GetProperty("text").GetString()!;
        var stop = full.Substring(full.Length / 2, 3);
        var cut = (await PostAsync("/v1/completions", JsonSerializer.Serialize(new { prompt = "Once upon a time", max_tokens = 30, temperature = 0, stop })))
            .GetProperty("choices")[0];
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], cut.GetProperty("text").GetString());
        Assert.Equal("stop", cut.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_sampled_answer()
    {
        const string request = """{"prompt":"Once upon a time","max_tokens":20,"temperature":1.0,"seed":1234}""";
        var a = (await PostAsync("/v1/completions", request)).GetProperty("choices")[0].GetProperty("text").GetString();
        var b = (await PostAsync("/v1/completions", request)).GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Chat_logprobs_list_each_token_with_its_alternatives()
    {
        var choice = (await PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Once"}],"max_tokens":4,"temperature":0,"logprobs":true,"top_logprobs":3}"""))
            .GetProperty("choices")[0];
        var tokens = choice.GetProperty("logprobs").GetProperty("content");
        Assert.Equal(4, tokens.GetArrayLength());
        foreach (var token in tokens.EnumerateArray())
        {
            var top = token.GetProperty("top_logprobs");
            Assert.Equal(3, top.GetArrayLength());
            // Greedy: the chosen token is the most likely one, and log probabilities are <= 0.
            Assert.Equal(top[0].GetProperty("logprob").GetSingle(), token.GetProperty("logprob").GetSingle(), 4);
            Assert.True(token.GetProperty("logprob").GetSingle() <= 0);
        }
        var text = string.Concat(tokens.EnumerateArray().Select(t => t.GetProperty("token").GetString()));
        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), text);
    }

    [Fact]
    public async Task Tokenize_and_detokenize_round_trip()
    {
        var tokens = (await PostAsync("/tokenize", """{"content":"Once upon a time","add_special":true,"with_pieces":true}"""));
        var ids = tokens.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(1, ids[0]); // BOS
        Assert.Equal(ids.Length, tokens.GetProperty("pieces").GetArrayLength());
        var text = await PostAsync("/detokenize", JsonSerializer.Serialize(new { tokens = ids }));
        Assert.Equal("Once upon a time", text.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Metrics_count_requests_and_tokens()
    {
        await PostAsync("/v1/completions", """{"prompt":"Once","max_tokens":3,"temperature":0}""");
        var metrics = await _server.Http.GetStringAsync("/metrics");
        Assert.Contains("llamero_requests_total{route=\"/v1/completions\",status=\"200\"}", metrics);
        Assert.Matches(@"llamero_generated_tokens_total [1-9]\d*", metrics);
        Assert.Contains("llamero_slots_total 1", metrics);
        Assert.Contains("# TYPE llamero_tokens_per_second gauge", metrics);
    }
}
