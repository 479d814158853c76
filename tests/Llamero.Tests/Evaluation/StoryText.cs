using System.Text;

namespace Llamero.Tests.Evaluation;

/// <summary>A deterministic children's story of any length, in the register stories260K was trained on.</summary>
internal static class StoryText
{
    private static readonly string[] Names = ["Lily", "Tom", "Sue", "Ben", "Mia", "Max", "Anna", "Sam"];
    private static readonly string[] Things = ["ball", "dog", "cat", "toy", "kite", "book", "car", "hat"];
    private static readonly string[] Places = ["park", "garden", "house", "forest", "beach", "school"];
    private static readonly string[] Feelings = ["happy", "sad", "scared", "excited", "tired", "proud"];

    public static string Generate(int sentences, int seed = 42)
    {
        var rng = new Random(seed);
        string Pick(string[] words) => words[rng.Next(words.Length)];
        var sb = new StringBuilder();
        for (var i = 0; i < sentences; i++)
        {
            var name = Pick(Names);
            sb.Append(rng.Next(6) switch
            {
                0 => $"Once upon a time, there was a little girl named {name}. ",
                1 => $"{name} liked to play with the {Pick(Things)} in the {Pick(Places)}. ",
                2 => $"One day, {name} went to the {Pick(Places)} with mom. ",
                3 => $"{name} was very {Pick(Feelings)} and said, \"I want my {Pick(Things)}!\" ",
                4 => $"They played together all day and had a lot of fun. ",
                _ => $"{name} saw a big {Pick(Things)} and smiled.\n",
            });
        }
        return sb.ToString();
    }
}
