using Llamero.Server.Engine;
using Llamero.Server.Errors;
using Llamero.Server.Metrics;
using Llamero.Server.Scheduling;

namespace Llamero.Server.Hosting;

/// <summary>
/// Loads the model in the background while the server already answers (<c>/health</c> says 503 until then), and
/// owns the engine and the slot scheduler once loaded.
/// </summary>
public sealed class EngineHost : IDisposable
{
    private readonly Task _loading;
    private readonly Func<IInferenceEngine> _load;
    private readonly ServerOptions _options;
    private int _started;
    private IInferenceEngine? _engine;
    private SlotScheduler? _scheduler;
    private Exception? _failure;

    /// <summary>Prepares to load with <paramref name="load"/>; loading starts now or at <see cref="StartLoading"/>.</summary>
    public EngineHost(Func<IInferenceEngine> load, ServerOptions options, ServerMetrics metrics, bool startNow = true)
    {
        Metrics = metrics;
        _load = load;
        _options = options;
        _loading = new Task(Load);
        if (startNow)
            StartLoading();
    }

    /// <summary>Starts loading on a worker thread (once).</summary>
    public void StartLoading()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
            _loading.Start(TaskScheduler.Default);
    }

    private void Load()
    {
        try
        {
            var engine = _load();
            var context = _options.ContextSize ?? Math.Min(engine.TrainedContextSize, 4096);
            _scheduler = new SlotScheduler(engine, _options.Parallel, context, _options.QueueCapacity, Metrics, _options.BatchSize);
            LoadedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            _engine = engine;
        }
        catch (Exception e)
        {
            _failure = e;
            throw;
        }
    }

    /// <summary>Completes when the model is loaded; faults with the load error.</summary>
    public Task Loaded => _loading;

    /// <summary>Request and token counters.</summary>
    public ServerMetrics Metrics { get; }

    /// <summary>True once the model is loaded.</summary>
    public bool IsReady => _engine is not null;

    /// <summary>The engine; throws 503 + Retry-After while loading.</summary>
    public IInferenceEngine Engine => _engine ?? throw NotReady();

    /// <summary>The scheduler; throws 503 + Retry-After while loading.</summary>
    public SlotScheduler Scheduler => _scheduler ?? throw NotReady();

    /// <summary>The scheduler when loaded, else null (for metrics).</summary>
    public SlotScheduler? SchedulerOrNull => _scheduler;

    /// <summary>Unix seconds when the model finished loading.</summary>
    public long LoadedAt { get; private set; }

    /// <summary>Embeds <paramref name="tokens"/> on the decode thread (the model is used from one thread only).</summary>
    public async Task<float[]> EmbedAsync(int[] tokens, CancellationToken cancellation)
    {
        var engine = Engine;
        try
        {
            return await Scheduler.RunOnDecodeThreadAsync(() => engine.Embed(tokens), cancellation);
        }
        catch (NotSupportedException e)
        {
            throw ApiException.NotImplemented(e.Message);
        }
    }

    /// <summary>Throws 404 unless <paramref name="model"/> is absent or names the loaded model.</summary>
    public void RequireModel(string? model, string param = "model")
    {
        if (model is not null && model != Engine.ModelId)
            throw ApiException.NotFound($"The model '{model}' does not exist. This server serves '{Engine.ModelId}'.", param, "model_not_found");
    }

    private ApiException NotReady() => _failure is null
        ? ApiException.Unavailable("Loading model.", "model_loading", retryAfterSeconds: 1)
        : ApiException.Unavailable($"The model failed to load: {_failure.Message}", "model_load_failed", retryAfterSeconds: 60);

    /// <summary>Stops the scheduler and releases the model.</summary>
    public void Dispose()
    {
        try
        {
            if (Volatile.Read(ref _started) == 1)
                _loading.Wait();
        }
        catch (AggregateException)
        {
            // Load failure already reported through Loaded.
        }
        _scheduler?.Dispose();
        _engine?.Dispose();
    }
}
