namespace Llamero.Hub;

/// <summary>
/// The one hook <c>run</c>, <c>serve</c> and the other model commands call on their <c>-m</c> value: a local path
/// comes back unchanged; <c>hf:OWNER/NAME/FILE</c> is downloaded into the cache first (see <see cref="HubCache"/>).
/// </summary>
public static class ModelLocator
{
    /// <summary>Returns a local path for <paramref name="pathOrSpec"/>, downloading a hub model when needed.</summary>
    public static string Resolve(string pathOrSpec, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        HubCache.IsHubSpec(pathOrSpec)
            ? HubCache.ResolveAsync(pathOrSpec, progress: progress, cancellationToken: cancellationToken).GetAwaiter().GetResult()
            : pathOrSpec;
}
