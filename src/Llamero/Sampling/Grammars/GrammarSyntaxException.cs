namespace Llamero.Sampling.Grammars;

/// <summary>A GBNF grammar that cannot be compiled, with the line and column (1-based) where the problem is.</summary>
public sealed class GrammarSyntaxException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with the position.</summary>
    public GrammarSyntaxException(string message, int line, int column)
        : base($"grammar error at line {line}, column {column}: {message}")
    {
        Line = line;
        Column = column;
        Reason = message;
    }

    /// <summary>1-based line of the problem.</summary>
    public int Line { get; }

    /// <summary>1-based column (in UTF-16 characters) of the problem.</summary>
    public int Column { get; }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }
}
