using Llamero.Models;

namespace Llamero.Evaluation;

/// <summary>
/// Scores the candidates of a task by log-likelihood: the shared prefix is evaluated once, then each candidate's
/// remaining tokens from there (the cache truncated back to the prefix between candidates).
/// </summary>
public sealed class ChoiceScorer(IModelSession session, int batchSize = 512)
{
    /// <summary>The per-candidate log-likelihoods of <paramref name="task"/>.</summary>
    public ChoiceScores Score(ChoiceTask task)
    {
        var vocab = session.VocabSize;
        var longest = task.Candidates.Max(c => c.Tokens.Length);
        if (longest > session.ContextSize)
            throw new EvaluationException($"the task on line {task.Line} needs {longest} tokens, the context holds {session.ContextSize}: raise -c");
        var prefix = Math.Max(1, Math.Min(task.CommonPrefix(), task.Candidates.Min(c => c.From)));
        // Logits of every prefix position (row p predicts token p + 1).
        session.Truncate(0);
        var prefixLogits = Evaluate(task.Candidates[0].Tokens.AsSpan(0, prefix));
        var sums = new double[task.Candidates.Count];
        var counts = new int[task.Candidates.Count];
        for (var c = 0; c < task.Candidates.Count; c++)
        {
            var candidate = task.Candidates[c];
            session.Truncate(prefix);
            // Rows for positions prefix .. To-2: the candidate's tokens up to the second-to-last scored one.
            var restLogits = candidate.To - 1 > prefix ? Evaluate(candidate.Tokens.AsSpan(prefix, candidate.To - 1 - prefix)) : [];
            double sum = 0;
            for (var i = candidate.From; i < candidate.To; i++)
            {
                var position = i - 1;
                var row = position < prefix
                    ? prefixLogits.AsSpan(position * vocab, vocab)
                    : restLogits.AsSpan((position - prefix) * vocab, vocab);
                sum += LogProbs.Of(row, candidate.Tokens[i]);
            }
            sums[c] = sum;
            counts[c] = candidate.Count;
        }
        return new ChoiceScores(task, sums, counts);
    }

    private float[] Evaluate(ReadOnlySpan<int> tokens)
    {
        var vocab = session.VocabSize;
        var logits = new float[(long)tokens.Length * vocab];
        for (var start = 0; start < tokens.Length; start += batchSize)
        {
            var size = Math.Min(batchSize, tokens.Length - start);
            session.EvaluateAll(tokens.Slice(start, size), logits.AsSpan(start * vocab, size * vocab));
        }
        return logits;
    }
}
