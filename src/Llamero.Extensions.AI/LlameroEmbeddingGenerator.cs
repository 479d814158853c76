using Llamero.Models;
using Llamero.Tokenization;
using Microsoft.Extensions.AI;

namespace Llamero.Extensions.AI;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a local model: each text is tokenized (with BOS), its
/// final hidden states are mean-pooled and L2-normalised (llama.cpp's pooling <c>mean</c>). Each text gets its own
/// short-lived session, so concurrent calls are safe. The model stays the caller's: dispose it after the generator.
/// </summary>
public sealed class LlameroEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly LlamaModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>A generator over <paramref name="model"/>; vectors have <c>EmbeddingLength</c> values.</summary>
    public LlameroEmbeddingGenerator(LlamaModel model)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = Tokenizer.FromGguf(model.File);
        _metadata = new EmbeddingGeneratorMetadata("llamero", defaultModelId: Path.GetFileNameWithoutExtension(model.File.Path),
            defaultModelDimensions: model.Config.EmbeddingLength);
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values.ToArray();
        return Task.Run(() =>
        {
            var result = new GeneratedEmbeddings<Embedding<float>>(texts.Length);
            long tokenCount = 0;
            foreach (var text in texts)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var tokens = _tokenizer.Encode(text ?? throw new ArgumentException("A text to embed is null.", nameof(values)), addSpecial: true);
                if (tokens.Length == 0)
                    throw new ArgumentException("A text to embed produced no tokens.", nameof(values));
                if (tokens.Length > _model.Config.ContextLength)
                    throw new ArgumentException($"A text to embed is {tokens.Length} tokens; the model's context holds {_model.Config.ContextLength}.", nameof(values));
                using var session = (LlamaSession)_model.CreateSession(tokens.Length);
                result.Add(new Embedding<float>(session.EmbedMean(tokens)) { ModelId = _metadata.DefaultModelId, CreatedAt = DateTimeOffset.UtcNow });
                tokenCount += tokens.Length;
            }
            result.Usage = new UsageDetails { InputTokenCount = tokenCount, TotalTokenCount = tokenCount };
            return result;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
            return _metadata;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Nothing to release: the model is the caller's.</summary>
    public void Dispose()
    {
    }
}
