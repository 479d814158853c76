using Llamero.Server.Tests.Support;
using Microsoft.Playwright;

namespace Llamero.Server.Tests.Browser;

/// <summary>
/// The chat page in a real headless Chromium (the Debian package, driven by Playwright; no browser download):
/// type a message, watch the answer stream in, and stop a long one.
/// </summary>
public sealed class ChatPageTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private TestServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(Engines.Default);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Typing_a_message_streams_a_reply()
    {
        var page = await _browser.NewPageAsync();
        var chunks = 0;
        page.Response += (_, r) => { if (r.Url.EndsWith("/v1/chat/completions")) chunks++; };
        await page.GotoAsync(_server.BaseAddress.ToString());
        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync(_server.Server.ModelId);

        await page.FillAsync("#system", "You tell stories.");
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#max_tokens", "12");
        await page.FillAsync("#input", "Once upon a time");
        await page.PressAsync("#input", "Enter");

        var reply = page.Locator(".msg.assistant[data-done=true] .content");
        await Assertions.Expect(reply).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        var text = await reply.InnerTextAsync();
        Assert.False(string.IsNullOrWhiteSpace(text), "the streamed reply is empty");
        Assert.DoesNotContain("Error", text);
        Assert.Matches(@"^12 tokens in", await page.InnerTextAsync("#status"));
        Assert.Equal("Once upon a time", await page.InnerTextAsync(".msg.user .content"));
        Assert.Equal(1, chunks);
    }

    [Fact]
    public async Task Stop_button_aborts_the_answer_and_frees_the_slot()
    {
        var engine = new GatedEngine(Engines.Default());
        await using var server = await TestServer.StartAsync(() => engine, new Hosting.ServerOptions { Parallel = 1, QueueCapacity = 0 });
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(server.BaseAddress.ToString());
        await page.FillAsync("#max_tokens", "200");
        await page.FillAsync("#input", "Tell me a long story");
        await page.ClickAsync("#send");
        await Assertions.Expect(page.Locator("#stop")).ToBeEnabledAsync();
        await Scheduling.QueueAndLoadingTests.WaitForMetricAsync(server, "llamero_slots_busy", 1);

        await page.ClickAsync("#stop");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("stopped");
        await Assertions.Expect(page.Locator("#send")).ToBeEnabledAsync();
        engine.Open();
        await Scheduling.QueueAndLoadingTests.WaitForMetricAsync(server, "llamero_slots_busy", 0);
    }
}
