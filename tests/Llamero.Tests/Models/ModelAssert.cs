namespace Llamero.Tests.Models;

/// <summary>Comparisons of logit rows and greedy loops shared by the model tests.</summary>
internal static class ModelAssert
{
    /// <summary>Largest |expected − actual| over a row.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        return worst;
    }

    /// <summary>Asserts every logit is within <paramref name="tolerance"/> (absolute), reporting the worst.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        var worst = MaxAbsDiff(expected, actual);
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst:G3} > {tolerance:G3}");
    }

    /// <summary>Index of the largest value (first on ties, as llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits) => Oracle.LlamaCppModel.ArgMax(logits);

    /// <summary>Greedy continuation: evaluates the prompt, then feeds back the argmax <paramref name="count"/> times.</summary>
    public static int[] Greedy(Llamero.Models.IModelSession session, ReadOnlySpan<int> prompt, int count)
    {
        var output = new int[count];
        var next = new int[1];
        var logits = session.Evaluate(prompt);
        for (var i = 0; i < count; i++)
        {
            output[i] = next[0] = ArgMax(logits);
            if (i + 1 < count)
                logits = session.Evaluate(next);
        }
        return output;
    }
}
