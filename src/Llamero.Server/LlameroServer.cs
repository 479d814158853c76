using System.Net;
using System.Text;
using Llamero.Server.Engine;
using Llamero.Server.Hosting;
using Llamero.Server.Metrics;
using Llamero.Server.Routes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Llamero.Server;

/// <summary>
/// The OpenAI-compatible server: Kestrel + minimal APIs over one model shared by N slots. Listening starts at once;
/// the model loads in the background (<c>/health</c> answers 503 until it is ready).
/// <code>
/// await using var server = LlameroServer.Create(new ServerOptions { Port = 8080 }, () => LlameroEngine.Load("model.gguf"));
/// await server.StartAsync();
/// await server.Loaded;
/// </code>
/// </summary>
public sealed class LlameroServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EngineHost _host;

    private LlameroServer(WebApplication app, EngineHost host)
    {
        _app = app;
        _host = host;
    }

    /// <summary>Builds the server; <paramref name="loadEngine"/> runs on a background thread after <see cref="StartAsync"/>.</summary>
    public static LlameroServer Create(ServerOptions options, Func<IInferenceEngine> loadEngine, ILoggerProvider? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is not null)
            builder.Logging.AddProvider(logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Bodies are read and limited by HttpJson so an oversized body gets OpenAI's JSON 413, not a bare one.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
            var address = options.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            kestrel.Listen(address, options.Port);
        });
        var app = builder.Build();

        var metrics = new ServerMetrics();
        var host = new EngineHost(loadEngine, options, metrics, startNow: false);
        var state = new ServerState(host, options);
        byte[]? key = options.ApiKey is null ? null : Encoding.UTF8.GetBytes(options.ApiKey);
        app.Use((context, next) => ErrorMiddleware.InvokeAsync(context, next, metrics));
        app.Use((context, next) => ApiKeyMiddleware.InvokeAsync(context, next, key));

        ChatPageRoute.Map(app, state);
        HealthRoute.Map(app, state);
        MetricsRoute.Map(app, state);
        ModelsRoute.Map(app, state);
        ChatCompletionsRoute.Map(app, state);
        CompletionsRoute.Map(app, state);
        EmbeddingsRoute.Map(app, state);
        TokenizeRoute.Map(app, state);
        DetokenizeRoute.Map(app, state);
        NotFoundRoute.Map(app, state);
        return new LlameroServer(app, host);
    }

    /// <summary>Completes when the model is loaded and the slots are ready; faults with the load error.</summary>
    public Task Loaded => _host.Loaded;

    /// <summary>The id of the loaded model (once loaded).</summary>
    public string ModelId => _host.Engine.ModelId;

    /// <summary>Tokens of context per slot (once loaded).</summary>
    public int ContextSize => _host.Scheduler.ContextSize;

    /// <summary>The address actually bound (useful with port 0), e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseAddress
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First().TrimEnd('/') + "/");
        }
    }

    /// <summary>Starts listening, then starts loading the model.</summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        await _app.StartAsync(cancellation);
        _host.StartLoading();
    }

    /// <summary>Completes when the host shuts down (Ctrl+C or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    /// <summary>Stops listening (in-flight requests end), then releases the model.</summary>
    public async Task StopAsync()
    {
        await _app.StopAsync();
        _host.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
