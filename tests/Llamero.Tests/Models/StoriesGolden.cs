using System.Text.Json;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>stories260K.greedy-from-bos.json: the greedy continuation from BOS and the logits at positions 0..2,
/// computed independently in float64.</summary>
internal sealed class StoriesGolden
{
    public static StoriesGolden Instance { get; } = Load();

    public required int[] InputIds { get; init; }
    public required int[] GeneratedIds { get; init; }
    /// <summary>(position, input id, 512 logits) for positions 0..2.</summary>
    public required (int Position, int InputId, float[] Logits)[] Logits { get; init; }

    private static StoriesGolden Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Shared("stories260K", "stories260K.greedy-from-bos.json")));
        var root = doc.RootElement;
        int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
        var positions = root.GetProperty("logits_positions").EnumerateArray().ToArray();
        var logits = root.GetProperty("logits").EnumerateArray().ToArray();
        return new StoriesGolden
        {
            InputIds = Ints(root.GetProperty("input_ids")),
            GeneratedIds = Ints(root.GetProperty("generated_ids")),
            Logits = [.. positions.Select((p, i) => (
                p.GetProperty("pos").GetInt32(),
                p.GetProperty("input_id").GetInt32(),
                logits[i].EnumerateArray().Select(x => x.GetSingle()).ToArray()))],
        };
    }
}
