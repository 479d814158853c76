using Llamero.Sampling;

namespace Llamero.Evaluation;

/// <summary>Which tasks llama-perplexity evaluates, and in what order, seeded as it seeds them (std::mt19937(1)).</summary>
public static class TaskSelection
{
    /// <summary>
    /// --hellaswag: always a random order; each pick is uniform_int_distribution&lt;size_t&gt;(0, left-1) (libstdc++'s
    /// Lemire method over 32-bit draws) among the tasks left. Returns the first <paramref name="count"/> picks.
    /// </summary>
    public static IReadOnlyList<T> HellaswagOrder<T>(IReadOnlyList<T> items, int count)
    {
        var rng = new Mt19937(1);
        var left = items.ToList();
        var picked = new List<T>();
        for (var i = 0; i < Math.Min(count, items.Count); i++)
        {
            var index = (int)UniformIndex(rng, (uint)left.Count);
            picked.Add(left[index]);
            left.RemoveAt(index);
        }
        return picked;
    }

    /// <summary>
    /// --winogrande-tasks / --multiple-choice-tasks: all tasks in file order, or (fewer asked) a random subset
    /// drawn as llama.cpp draws it: j = int(2^-32 * rng() * left) in float, swap-remove.
    /// </summary>
    public static IReadOnlyList<T> RandomSubset<T>(IReadOnlyList<T> items, int count)
    {
        if (count <= 0 || count >= items.Count)
            return items;
        var rng = new Mt19937(1);
        var aux = Enumerable.Range(0, items.Count).ToList();
        const float scale = 1f / (1f + 4294967295f);
        var picked = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            var product = scale * (float)rng.NextUInt32();
            product *= aux.Count;
            var j = Math.Min((int)product, aux.Count - 1);
            picked.Add(items[aux[j]]);
            aux[j] = aux[^1];
            aux.RemoveAt(aux.Count - 1);
        }
        return picked;
    }

    /// <summary>libstdc++'s uniform_int_distribution over [0, range) from a 32-bit engine (Lemire's nearly divisionless method).</summary>
    internal static uint UniformIndex(Mt19937 rng, uint range)
    {
        var product = (ulong)rng.NextUInt32() * range;
        var low = (uint)product;
        if (low < range)
        {
            var threshold = unchecked(0u - range) % range;
            while (low < threshold)
            {
                product = (ulong)rng.NextUInt32() * range;
                low = (uint)product;
            }
        }
        return (uint)(product >> 32);
    }
}
