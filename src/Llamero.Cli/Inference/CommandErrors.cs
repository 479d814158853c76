using System.Text.Json;
using Llamero.Gguf;

namespace Llamero.Cli.Inference;

/// <summary>Turns the failures a user can cause into a one-line message and exit code 1 (no stack trace).</summary>
internal static class CommandErrors
{
    public static int Run(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    public static bool IsUserError(Exception e) =>
        e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException
            or GgufFormatException or NotSupportedException or UnauthorizedAccessException or JsonException
            or IOException or InvalidOperationException;
}
