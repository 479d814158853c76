using System.Text;

namespace Llamero.Server.Scheduling;

/// <summary>A whole generation gathered for a non-streaming answer.</summary>
internal sealed record CollectedGeneration(string Text, IReadOnlyList<TokenLogprob> Logprobs, GenerationSummary Summary);

/// <summary>Reads a job to its end.</summary>
internal static class GenerationCollector
{
    /// <summary>Concatenates every piece and returns it with the logprobs and the summary.</summary>
    public static async Task<CollectedGeneration> CollectAsync(GenerationJob job, CancellationToken cancellation)
    {
        var text = new StringBuilder();
        var logprobs = new List<TokenLogprob>();
        await foreach (var piece in job.Pieces.ReadAllAsync(cancellation))
        {
            text.Append(piece.Text);
            if (piece.Logprob is not null)
                logprobs.Add(piece.Logprob);
        }
        return new CollectedGeneration(text.ToString(), logprobs, await job.Completion);
    }
}
