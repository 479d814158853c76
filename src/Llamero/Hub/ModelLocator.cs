namespace Llamero.Hub;

/// <summary>
/// The one hook <c>run</c>, <c>serve</c> and the other model commands call on their <c>-m</c> value: a local path
/// comes back unchanged; <c>hf:OWNER/NAME/FILE</c> is downloaded into the cache first (see <see cref="HubCache"/>),
/// with a progress line on stderr unless the caller passes its own progress sink.
/// </summary>
public static class ModelLocator
{
    /// <summary>Returns a local path for <paramref name="pathOrSpec"/>, downloading a hub model when needed.</summary>
    public static string Resolve(string pathOrSpec, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!HubCache.IsHubSpec(pathOrSpec))
            return pathOrSpec;
        var printer = progress is null ? new DownloadProgressPrinter(Console.Error) : null;
        try
        {
            return HubCache.ResolveAsync(pathOrSpec, progress: progress ?? printer, cancellationToken: cancellationToken).GetAwaiter().GetResult();
        }
        finally
        {
            printer?.Finish();
        }
    }
}
