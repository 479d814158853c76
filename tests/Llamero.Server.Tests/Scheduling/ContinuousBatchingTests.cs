using System.ClientModel;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;
using OpenAI;
using OpenAI.Chat;

namespace Llamero.Server.Tests.Scheduling;

/// <summary>
/// Continuous batching through the real server and the OpenAI SDK: concurrent streaming requests share decode steps
/// (one forward pass per step for all of them) and still get exactly the greedy text each gets alone.
/// </summary>
public sealed class ContinuousBatchingTests
{
    private static readonly string[] Prompts =
    [
        "Once upon a time there was a little dog",
        "Lily went to the park",
        "The sun was hot and the big red ball rolled down the hill to the",
        "Tom",
    ];

    private static readonly ChatCompletionOptions Greedy = new() { MaxOutputTokenCount = 16, Temperature = 0 };

    [Fact]
    public async Task Four_concurrent_streams_get_their_alone_text_in_fewer_steps_than_tokens()
    {
        // One by one, on a server of one slot.
        var alone = new List<string>();
        await using (var single = await TestServer.StartAsync(Engines.Default, new ServerOptions { Parallel = 1 }))
        {
            foreach (var prompt in Prompts)
                alone.Add(await StreamAsync(Chat(single), prompt));
        }

        // Together, on a server of four slots. The gate holds the first step until every request has arrived, so all
        // four are certain to be in flight together (without it a tiny model could finish one before the next came).
        var engine = new GatedEngine(Engines.Default());
        await using var server = await TestServer.StartAsync(() => engine, new ServerOptions { Parallel = 4 });
        var chat = Chat(server);
        var streams = Prompts.Select(p => Task.Run(() => StreamAsync(chat, p))).ToArray();
        await WaitUntilArrivedAsync(server, Prompts.Length);
        engine.Open();
        var together = await Task.WhenAll(streams);

        Assert.Equal(alone, together);
        Assert.All(together, text => Assert.False(string.IsNullOrEmpty(text)));
        var steps = await QueueAndLoadingTests.MetricAsync(server, "llamero_decode_steps_total");
        var generated = await QueueAndLoadingTests.MetricAsync(server, "llamero_generated_tokens_total");
        var batchTokens = await QueueAndLoadingTests.MetricAsync(server, "llamero_decode_batch_tokens_total");
        Assert.True(generated >= 16, $"only {generated} tokens generated");
        Assert.True(steps < generated, $"{steps} decode steps for {generated} generated tokens: the slots were not batched");
        Assert.True(batchTokens > steps, $"{batchTokens} tokens in {steps} steps");
    }

    [Fact]
    public async Task A_stream_that_leaves_mid_answer_frees_its_slot_while_the_one_beside_it_finishes_unchanged()
    {
        string expected;
        await using (var single = await TestServer.StartAsync(Engines.Default, new ServerOptions { Parallel = 1 }))
            expected = await StreamAsync(Chat(single), Prompts[1]);

        var engine = new GatedEngine(Engines.Default());
        await using var server = await TestServer.StartAsync(() => engine, new ServerOptions { Parallel = 2 });
        var chat = Chat(server);
        using var leaving = new CancellationTokenSource();
        var staying = Task.Run(() => StreamAsync(chat, Prompts[1]));
        var left = Task.Run(async () =>
        {
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 200, Temperature = 0 };
            await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage(Prompts[0])], options, leaving.Token))
                await leaving.CancelAsync(); // leaves after its first chunk
        });
        await WaitUntilArrivedAsync(server, 2);
        engine.Open();

        try
        {
            await left;
        }
        catch (OperationCanceledException)
        {
            // Expected; a tiny model may also have finished the answer before the client left.
        }
        Assert.Equal(expected, await staying);
        await QueueAndLoadingTests.WaitForMetricAsync(server, "llamero_slots_busy", 0);
        Assert.False(string.IsNullOrEmpty(await StreamAsync(chat, Prompts[3])));
    }

    // Until `count` requests are in slots or queued (however the decode thread shared them out before the gate held it).
    private static async Task WaitUntilArrivedAsync(TestServer server, int count)
    {
        var arrived = 0.0;
        for (var i = 0; i < 500; i++)
        {
            var text = await server.Http.GetStringAsync("/metrics");
            arrived = Metric(text, "llamero_slots_busy") + Metric(text, "llamero_queue_depth");
            if (arrived == count)
                return;
            await Task.Delay(20);
        }
        Assert.Fail($"only {arrived} of {count} requests arrived");
    }

    private static double Metric(string text, string name) =>
        double.Parse(Regex.Match(text, $@"^{name} (\S+)$", RegexOptions.Multiline).Groups[1].Value, CultureInfo.InvariantCulture);

    private static ChatClient Chat(TestServer server) =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseAddress, "v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        }).GetChatClient("stories260K");

    private static async Task<string> StreamAsync(ChatClient chat, string prompt)
    {
        var text = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], Greedy))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
        }
        return text.ToString();
    }
}
