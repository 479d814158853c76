using System.Net.Http.Headers;
using Llamero.Server.Engine;
using Llamero.Server.Hosting;

namespace Llamero.Server.Tests.Support;

/// <summary>A real server on 127.0.0.1 with a free port, loaded and ready, plus an HttpClient aimed at it.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(LlameroServer server, HttpClient http)
    {
        Server = server;
        Http = http;
    }

    public LlameroServer Server { get; }

    public HttpClient Http { get; }

    public Uri BaseAddress => Server.BaseAddress;

    public static async Task<TestServer> StartAsync(Func<IInferenceEngine> engine, ServerOptions? options = null)
    {
        options ??= new ServerOptions();
        var server = LlameroServer.Create(options with { Host = "127.0.0.1", Port = 0 }, engine);
        await server.StartAsync();
        await server.Loaded;
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (options.ApiKey is { } key)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new TestServer(server, http);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
