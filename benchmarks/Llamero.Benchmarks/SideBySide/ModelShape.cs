namespace Llamero.Benchmarks.SideBySide;

/// <summary>The hyper-parameters of a real model family; random weights of this shape run at the real speed.</summary>
internal sealed record ModelShape(string Name, int Dim, int Layers, int Heads, int KvHeads, int FeedForward, int Vocab)
{
    /// <summary>TinyLlama-1.1B: dim 2048, 22 layers, 32 heads sharing 4 KV heads, ffn 5632.</summary>
    public static readonly ModelShape TinyLlama = new("tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000);

    /// <summary>Llama-2-7B: dim 4096, 32 layers, 32 heads (no GQA), ffn 11008.</summary>
    public static readonly ModelShape Llama2_7B = new("llama2-7b", 4096, 32, 32, 32, 11008, 32000);

    /// <summary>Two layers of Synthia-70B (Llama-2-70B): dim 8192, 64 heads sharing 8 KV heads, ffn 28672.</summary>
    public static readonly ModelShape Synthia70BSlice = new("synthia70b-2layers", 8192, 2, 64, 8, 28672, 32000);

    /// <summary>A few-MB model with Synthia's 8:1 head grouping, to check the runner itself quickly.</summary>
    public static readonly ModelShape Smoke = new("smoke", 512, 2, 16, 2, 1536, 32000);

    public static IReadOnlyList<ModelShape> All { get; } = [TinyLlama, Llama2_7B, Synthia70BSlice, Smoke];

    public static ModelShape Get(string name) =>
        All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown shape '{name}'; known: {string.Join(", ", All.Select(s => s.Name))}");
}
