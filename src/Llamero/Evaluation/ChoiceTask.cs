namespace Llamero.Evaluation;

/// <summary>One candidate of a task: its tokens and which of them are scored, [<paramref name="From"/>, <paramref name="To"/>):
/// the score is Σ ln p(Tokens[i] | Tokens[..i]) over that range.</summary>
public sealed record ScoredSequence(int[] Tokens, int From, int To)
{
    /// <summary>Number of scored tokens.</summary>
    public int Count => To - From;
}

/// <summary>A multiple-choice task ready to score: one sequence per candidate and the index of the right one.</summary>
/// <param name="Line">1-based line of the dataset the task starts on (for messages).</param>
/// <param name="Gold">Index of the correct candidate.</param>
/// <param name="Candidates">The candidates' sequences.</param>
public sealed record ChoiceTask(int Line, int Gold, IReadOnlyList<ScoredSequence> Candidates)
{
    /// <summary>Number of leading tokens every candidate shares (evaluated once).</summary>
    public int CommonPrefix()
    {
        var min = Candidates.Min(c => c.Tokens.Length);
        var prefix = 0;
        while (prefix < min && Candidates.All(c => c.Tokens[prefix] == Candidates[0].Tokens[prefix]))
            prefix++;
        return prefix;
    }

    /// <summary>
    /// llama.cpp's scoring of "context + ending" candidates: every token after the candidates' common prefix
    /// (at least the last token, and never the very first so it has a context to be predicted from).
    /// </summary>
    public static ChoiceTask FromContinuations(int line, int gold, IReadOnlyList<int[]> sequences)
    {
        var min = sequences.Min(s => s.Length);
        var prefix = 0;
        while (prefix < min && sequences.All(s => s[prefix] == sequences[0][prefix]))
            prefix++;
        return new ChoiceTask(line, gold, sequences.Select(s => new ScoredSequence(s, Math.Clamp(prefix, 1, s.Length - 1), s.Length)).ToList());
    }
}

/// <summary>What scoring a task gave: per candidate the summed log-likelihood and the scored token count.</summary>
public sealed record ChoiceScores(ChoiceTask Task, double[] LogLikelihoods, int[] Counts)
{
    /// <summary>acc: the candidate with the highest total log-likelihood is the gold one.</summary>
    public bool Correct => ArgMax(LogLikelihoods) == Task.Gold;

    /// <summary>acc_norm: the candidate with the highest mean log-likelihood per token (llama.cpp's criterion) is the gold one.</summary>
    public bool CorrectNormalized => ArgMax(LogLikelihoods.Select((l, i) => l / Counts[i]).ToArray()) == Task.Gold;

    private static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
