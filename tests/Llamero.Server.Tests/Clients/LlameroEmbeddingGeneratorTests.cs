using Llamero.Extensions.AI;
using Llamero.Models;
using Llamero.Server.Tests.Support;
using Llamero.Tests.Support;
using Microsoft.Extensions.AI;

namespace Llamero.Server.Tests.Clients;

/// <summary>The in-process <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> agrees with the server's pooling.</summary>
public sealed class LlameroEmbeddingGeneratorTests
{
    [Fact]
    public async Task Embeddings_are_unit_length_deterministic_and_match_the_server_engine()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var generator = new LlameroEmbeddingGenerator(model);
        var embeddings = await generator.GenerateAsync(["one day", "a cat", "one day"]);
        Assert.Equal(3, embeddings.Count);
        foreach (var e in embeddings)
        {
            Assert.Equal(model.Config.EmbeddingLength, e.Vector.Length);
            Assert.Equal(1.0, Math.Sqrt(e.Vector.ToArray().Sum(x => (double)x * x)), 4);
        }
        Assert.Equal(embeddings[0].Vector.ToArray(), embeddings[2].Vector.ToArray());
        Assert.NotEqual(embeddings[0].Vector.ToArray(), embeddings[1].Vector.ToArray());
        Assert.True(embeddings.Usage?.InputTokenCount > 0);
        Assert.Equal(model.Config.EmbeddingLength, generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelDimensions);

        using var engine = Engines.Default();
        Assert.Equal(engine.Embed(engine.Tokenizer.Encode("a cat")), embeddings[1].Vector.ToArray());
    }
}
