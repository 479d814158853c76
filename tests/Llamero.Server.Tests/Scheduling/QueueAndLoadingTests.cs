using System.Net;
using System.Text.RegularExpressions;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;

namespace Llamero.Server.Tests.Scheduling;

/// <summary>Slots, the bounded queue, disconnects and the loading state, made deterministic with a gated engine.</summary>
public sealed class QueueAndLoadingTests
{
    private const string Request = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0}""";

    [Fact]
    public async Task Full_queue_is_503_with_retry_after_and_queued_requests_still_complete()
    {
        var engine = new GatedEngine(Engines.Default());
        await using var server = await TestServer.StartAsync(() => engine, new ServerOptions { Parallel = 1, QueueCapacity = 1 });
        var first = HttpAssert.PostJsonAsync(server.Http, "/v1/chat/completions", Request);   // takes the slot
        var second = HttpAssert.PostJsonAsync(server.Http, "/v1/chat/completions", Request);  // waits in the queue
        await WaitForMetricAsync(server, "llamero_queue_depth", 1);
        await WaitForMetricAsync(server, "llamero_slots_busy", 1);

        var third = await HttpAssert.PostJsonAsync(server.Http, "/v1/chat/completions", Request);
        var error = await HttpAssert.ErrorAsync(third, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", third.Headers.RetryAfter?.Delta?.TotalSeconds.ToString());
        Assert.Equal("server_busy", error.GetProperty("code").GetString());

        engine.Open();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
        Assert.Equal(1, await MetricAsync(server, "llamero_requests_rejected_total"));
    }

    [Fact]
    public async Task Streaming_client_that_leaves_mid_answer_frees_the_slot()
    {
        var engine = new GatedEngine(Engines.Default());
        await using var server = await TestServer.StartAsync(() => engine, new ServerOptions { Parallel = 1, QueueCapacity = 0 });
        using var leaving = new CancellationTokenSource();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":100,"stream":true}""",
                System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leaving.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForMetricAsync(server, "llamero_slots_busy", 1);
        leaving.Cancel();
        response.Dispose();
        engine.Open();
        await WaitForMetricAsync(server, "llamero_slots_busy", 0);
        Assert.Equal(HttpStatusCode.OK, (await HttpAssert.PostJsonAsync(server.Http, "/v1/chat/completions", Request)).StatusCode);
    }

    [Fact]
    public async Task Health_is_503_while_loading_then_200()
    {
        using var loading = new ManualResetEventSlim(false);
        var server = LlameroServer.Create(new ServerOptions { Host = "127.0.0.1", Port = 0 }, () =>
        {
            loading.Wait();
            return Engines.Default();
        });
        await using var _ = server;
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var response = await http.GetAsync("/health");
        var error = await HttpAssert.ErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("model_loading", error.GetProperty("code").GetString());
        Assert.NotNull(response.Headers.RetryAfter);
        await HttpAssert.ErrorAsync(await HttpAssert.PostJsonAsync(http, "/v1/chat/completions", Request), HttpStatusCode.ServiceUnavailable);

        loading.Set();
        await server.Loaded;
        Assert.Equal("""{"status":"ok"}""", await http.GetStringAsync("/health"));
    }

    internal static async Task WaitForMetricAsync(TestServer server, string name, double value)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (await MetricAsync(server, name) == value)
                return;
            await Task.Delay(10);
        }
        Assert.Fail($"{name} never reached {value}: {await server.Http.GetStringAsync("/metrics")}");
    }

    internal static async Task<double> MetricAsync(TestServer server, string name)
    {
        var text = await server.Http.GetStringAsync("/metrics");
        var match = Regex.Match(text, $@"^{name} (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
    }
}
