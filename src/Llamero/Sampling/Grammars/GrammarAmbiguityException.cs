namespace Llamero.Sampling.Grammars;

/// <summary>
/// A grammar whose ambiguity only shows while generating: more parses alive at once than the matcher keeps.
/// </summary>
public sealed class GrammarAmbiguityException(string message) : GrammarGenerationException(message);
