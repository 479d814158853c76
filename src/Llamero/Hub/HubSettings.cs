namespace Llamero.Hub;

/// <summary>
/// Where the hub is and who we are: the endpoint (<c>HF_ENDPOINT</c>, default https://huggingface.co), the access
/// token (<c>HF_TOKEN</c>, else <c>HUGGING_FACE_HUB_TOKEN</c>) and the model cache (<c>LLAMERO_CACHE</c>, else
/// ~/.cache/llamero).
/// </summary>
public sealed record HubSettings
{
    /// <summary>The public hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base URL of the hub, without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Bearer token sent to the hub (never to the CDN it redirects to); null for anonymous access.</summary>
    public string? Token { get; init; }

    /// <summary>Folder where <see cref="HubCache"/> keeps downloaded models.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();

    /// <summary>Reads the settings from the environment variables named above.</summary>
    public static HubSettings FromEnvironment()
    {
        var endpoint = Env("HF_ENDPOINT") ?? DefaultEndpoint;
        return new HubSettings
        {
            Endpoint = endpoint.TrimEnd('/'),
            Token = Env("HF_TOKEN") ?? Env("HUGGING_FACE_HUB_TOKEN"),
            CacheDirectory = Env("LLAMERO_CACHE") ?? DefaultCacheDirectory(),
        };
    }

    private static string DefaultCacheDirectory()
    {
        var xdg = Env("XDG_CACHE_HOME");
        var root = xdg ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "llamero");
    }

    private static string? Env(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value.Trim() : null;
}
