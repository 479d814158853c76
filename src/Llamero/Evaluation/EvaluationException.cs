namespace Llamero.Evaluation;

/// <summary>Bad evaluation input: a text too short for the context, a malformed dataset line (named by its number),
/// a logits file that does not fit the model.</summary>
public sealed class EvaluationException(string message) : Exception(message);
