using Llamero.Generation;

namespace Llamero.Tests.Generation;

internal static class GeneratedStreams
{
    public static async Task<List<GeneratedToken>> Collect(IAsyncEnumerable<GeneratedToken> stream)
    {
        var items = new List<GeneratedToken>();
        await foreach (var item in stream)
            items.Add(item);
        return items;
    }
}
