using System.Globalization;

namespace Llamero.Evaluation;

/// <summary>acc and acc_norm over the tasks scored so far, with standard errors sqrt(p(1-p)/(n-1)) as llama.cpp prints.</summary>
public sealed class AccuracyTracker
{
    /// <summary>Tasks scored.</summary>
    public int Count { get; private set; }

    /// <summary>Tasks right by total log-likelihood.</summary>
    public int Correct { get; private set; }

    /// <summary>Tasks right by mean log-likelihood per token.</summary>
    public int CorrectNormalized { get; private set; }

    /// <summary>Number of candidates seen (for the random-chance baseline).</summary>
    public int Candidates { get; private set; }

    /// <summary>Adds one scored task.</summary>
    public void Add(ChoiceScores scores)
    {
        Count++;
        Candidates += scores.Task.Candidates.Count;
        if (scores.Correct)
            Correct++;
        if (scores.CorrectNormalized)
            CorrectNormalized++;
    }

    /// <summary>acc in percent and its standard error.</summary>
    public (double Percent, double Error) Accuracy => Percent(Correct);

    /// <summary>acc_norm in percent and its standard error.</summary>
    public (double Percent, double Error) AccuracyNormalized => Percent(CorrectNormalized);

    /// <summary>The score a random pick would get, in percent, and its standard error.</summary>
    public (double Percent, double Error) RandomChance
    {
        get
        {
            if (Candidates == 0)
                return (0, 0);
            var p = (double)Count / Candidates;
            return (100 * p, Count > 1 ? 100 * Math.Sqrt(p * (1 - p) / (Count - 1)) : 0);
        }
    }

    /// <summary>The progress line after the latest task: "n  acc ± se  acc_norm ± se".</summary>
    public string Line()
    {
        var (acc, accErr) = Accuracy;
        var (norm, normErr) = AccuracyNormalized;
        return string.Create(CultureInfo.InvariantCulture, $"{Count}\t{acc:F4} ± {accErr:F4}\t{norm:F4} ± {normErr:F4}");
    }

    private (double, double) Percent(int correct)
    {
        if (Count == 0)
            return (0, 0);
        var p = (double)correct / Count;
        return (100 * p, Count > 1 ? 100 * Math.Sqrt(p * (1 - p) / (Count - 1)) : 0);
    }
}
