using Llamero.Gguf;

namespace Llamero.Cli.Commands;

/// <summary>Runs a GGUF command body, turning the expected failures (bad file, missing file, I/O) into one line on Error.</summary>
internal static class GgufCommandErrors
{
    public static int Run(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is GgufFormatException or FileNotFoundException or DirectoryNotFoundException
                                       or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }
}
