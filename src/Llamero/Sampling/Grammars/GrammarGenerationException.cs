namespace Llamero.Sampling.Grammars;

/// <summary>
/// A request's grammar that cannot go on while generating: no candidate token continues it (for example the
/// end-of-generation token banned once the grammar is complete), or it grew too ambiguous to follow
/// (<see cref="GrammarAmbiguityException"/>). The grammar is at fault, so a server answers it as a bad request.
/// </summary>
public class GrammarGenerationException(string message) : InvalidOperationException(message);
