namespace Llamero.Cli.Inference;

/// <summary>llama.cpp's console colours (--color): the prompt in yellow, the user's input in green.</summary>
internal static class Ansi
{
    public const string Prompt = "\u001b[33m";
    public const string UserInput = "\u001b[1m\u001b[32m";
    public const string Reset = "\u001b[0m";
}
