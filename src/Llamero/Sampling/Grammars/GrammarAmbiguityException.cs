namespace Llamero.Sampling.Grammars;

/// <summary>
/// A grammar whose ambiguity only shows while generating: more parses alive at once than the matcher keeps. It is
/// the request's grammar that is at fault, so a server answers it as a bad request, not as its own failure.
/// </summary>
public sealed class GrammarAmbiguityException(string message) : InvalidOperationException(message);
