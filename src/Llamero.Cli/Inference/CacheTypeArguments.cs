using System.CommandLine;
using Llamero.Models;

namespace Llamero.Cli.Inference;

/// <summary>llama.cpp's <c>-ctk/--cache-type-k</c> and <c>-ctv/--cache-type-v</c>: how the KV cache stores keys and values.</summary>
internal sealed class CacheTypeArguments
{
    public Option<string> Keys { get; } = new("--cache-type-k", "-ctk")
    {
        Description = "KV cache type for keys: f16 (default, as llama.cpp), f32 (twice the memory), q8_0 (53% of f16), q4_0 (28%), q4_1, q5_0, q5_1, iq4_nl (quantized types need a head size that is a multiple of 32).",
        DefaultValueFactory = _ => "f16",
    };

    public Option<string> Values { get; } = new("--cache-type-v", "-ctv")
    {
        Description = "KV cache type for values: f16 (default, as llama.cpp), f32, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl.",
        DefaultValueFactory = _ => "f16",
    };

    public IEnumerable<Option> All() => [Keys, Values];

    /// <summary>The cache types asked for; throws <see cref="ArgumentException"/> naming a type Llamero does not store.</summary>
    public KvCacheOptions Read(ParseResult result) =>
        new(KvCacheOptions.ParseType(result.GetValue(Keys)!), KvCacheOptions.ParseType(result.GetValue(Values)!));
}
