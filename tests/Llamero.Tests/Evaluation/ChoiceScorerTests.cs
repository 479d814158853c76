using Llamero.Evaluation;
using Llamero.Tests.Support;

namespace Llamero.Tests.Evaluation;

/// <summary>Candidate log-likelihoods against llama.cpp's logits for the same tokens.</summary>
public class ChoiceScorerTests
{
    /// <summary>Σ ln p over a candidate's scored tokens, each candidate evaluated from scratch by llama.cpp.</summary>
    internal static double[] Reference(Oracle.LlamaCppModel oracle, ChoiceTask task)
    {
        return task.Candidates.Select(c =>
        {
            oracle.Reset();
            var logits = oracle.Evaluate(c.Tokens, allLogits: true);
            double sum = 0;
            for (var i = c.From; i < c.To; i++)
            {
                var row = logits[i - 1];
                var max = row.Max();
                sum += row[c.Tokens[i]] - max - Math.Log(row.Sum(x => Math.Exp(x - max)));
            }
            return sum;
        }).ToArray();
    }

    internal static IEnumerable<ChoiceTask> SampleTasks(Func<string, int[]> tokenize) =>
        HellaswagDataset.Parse(DatasetTests.Hellaswag, "hs").Select(i => HellaswagDataset.ToTask(i, tokenize))
            .Concat(WinograndeDataset.Parse(DatasetTests.Winogrande, "wg").Select(i => WinograndeDataset.ToTask(i, tokenize)))
            .Concat(MultipleChoiceDataset.Parse(DatasetTests.Jsonl, "mc").Select(i => MultipleChoiceDataset.ToTask(i, tokenize)))
            .Concat(MultipleChoiceDataset.Load(MultipleChoiceBinaryTests.Sample, "mc.bin").Select(i => MultipleChoiceDataset.ToTask(i, tokenize)));

    [Fact]
    public void Shared_prefix_scoring_gives_llama_cpp_log_likelihoods()
    {
        var model = TestPaths.Stories260K;
        using var session = OracleSession.Load(model, 256);
        var scorer = new ChoiceScorer(session, batchSize: 16);
        var tracker = new AccuracyTracker();
        using var oracle = Oracle.LlamaCppModel.Load(model, 256);
        foreach (var task in SampleTasks(text => OracleSession.Tokenize(model, text)))
        {
            var scores = scorer.Score(task);
            var expected = Reference(oracle, task);
            for (var c = 0; c < expected.Length; c++)
                Assert.Equal(expected[c], scores.LogLikelihoods[c], 1e-3);
            Assert.Equal(task.Candidates.Select(c => c.Count), scores.Counts);
            tracker.Add(scores);
        }
        Assert.Equal(12, tracker.Count);
        Assert.StartsWith("12\t", tracker.Line());
    }
}
