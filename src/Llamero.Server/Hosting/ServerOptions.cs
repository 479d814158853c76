namespace Llamero.Server.Hosting;

/// <summary>Settings of <c>llamero serve</c>.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on; 127.0.0.1 by default (loopback only).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="LlameroServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, every API route needs <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Slots: how many requests generate at the same time.</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Tokens of context per slot; null = the model's trained length, at most 4096.</summary>
    public int? ContextSize { get; init; }

    /// <summary>Most tokens one decode step evaluates, all slots together (continuous batching: every busy slot's next
    /// token, then prompt chunks in the room left). At least <see cref="Parallel"/> are used.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Requests that may wait for a free slot before new ones get 503.</summary>
    public int QueueCapacity { get; init; } = 32;

    /// <summary>Largest accepted request body, in bytes (413 beyond).</summary>
    public long MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The model id reported by <c>/v1/models</c>; null = the file name without its extension.</summary>
    public string? ModelId { get; init; }
}
