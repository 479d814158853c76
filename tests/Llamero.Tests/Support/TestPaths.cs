namespace Llamero.Tests.Support;

/// <summary>Locates the repository and the shared test models (../shared/models beside the repo).</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> TempDirs = new();
    private static int _cleanupRegistered;

    /// <summary>The repository root (the folder holding Llamero.slnx).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared models folder; LLAMERO_SHARED_MODELS overrides it.</summary>
    public static string SharedModels =>
        Environment.GetEnvironmentVariable("LLAMERO_SHARED_MODELS") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));

    /// <summary>A file under the shared models folder.</summary>
    public static string Shared(params string[] parts) => Path.Combine([SharedModels, .. parts]);

    /// <summary>stories260K.gguf: the small real model every inference test starts from.</summary>
    public static string Stories260K => Shared("stories260K", "stories260K.gguf");

    /// <summary>A fresh temporary folder, removed at process exit where possible.</summary>
    public static string NewTempDir(string prefix = "llamero-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        TempDirs.Enqueue(dir);
        if (Interlocked.Exchange(ref _cleanupRegistered, 1) == 0)
            AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveTempDirs();
        return dir;
    }

    // Test models are tens of MB each; left behind they filled the disk over a few hundred runs.
    private static void RemoveTempDirs()
    {
        while (TempDirs.TryDequeue(out var dir))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still open elsewhere (Windows) or already gone: leave it.
            }
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Llamero.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (Llamero.slnx) above " + AppContext.BaseDirectory);
    }
}
