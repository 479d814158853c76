namespace Llamero.Cli.Inference;

/// <summary>Finds the default model, stories260K, so <c>llamero run</c> works without <c>-m</c>.</summary>
internal static class DefaultModel
{
    public const string RelativePath = "models/stories260K.gguf";

    /// <summary>The model to use: <paramref name="given"/> (a path, or an <c>hf:</c> spec fetched into the cache), else
    /// stories260K beside the tool or in a folder above the working directory (a repository checkout).</summary>
    public static string Resolve(string? given)
    {
        if (!string.IsNullOrEmpty(given))
            return Llamero.Hub.ModelLocator.Resolve(given);
        var beside = Path.Combine(AppContext.BaseDirectory, RelativePath);
        if (File.Exists(beside))
            return beside;
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"no -m given and the default model {RelativePath} was not found beside the tool or in the repository");
    }
}
