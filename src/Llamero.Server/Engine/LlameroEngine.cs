using Llamero.Chat;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Server.Engine;

/// <summary>
/// The server's engine over a GGUF file: the model (weights mapped once, shared by every slot), its tokenizer,
/// and the chat template chosen by name, else the file's own, else plain completion.
/// </summary>
public sealed class LlameroEngine : IInferenceEngine
{
    private readonly LlamaModel _model;
    private readonly KvCacheOptions? _cacheTypes;

    private LlameroEngine(LlamaModel model, Tokenizer tokenizer, ChatTemplate template, string modelId, KvCacheOptions? cacheTypes)
    {
        _model = model;
        _cacheTypes = cacheTypes;
        Tokenizer = tokenizer;
        Template = template;
        ModelId = modelId;
    }

    /// <summary>
    /// Loads <paramref name="path"/>. <paramref name="chatTemplate"/> names a built-in template (unknown names throw,
    /// listing the valid ones); null uses the file's <c>tokenizer.chat_template</c> when recognised. Slot sessions keep
    /// their KV caches as <paramref name="cacheTypes"/> says (null: <see cref="KvCacheOptions.Default"/>); the weights load
    /// as <paramref name="load"/> says (null: <see cref="ModelLoadOptions.Default"/>, repacked).
    /// </summary>
    public static LlameroEngine Load(string path, string? chatTemplate = null, string? modelId = null, KvCacheOptions? cacheTypes = null,
        ModelLoadOptions? load = null)
    {
        var model = LlamaModel.Load(path, load ?? ModelLoadOptions.Default);
        try
        {
            cacheTypes?.CheckHeadSize(model.Config.HeadSize); // refuse a block type the heads do not fit before any slot needs it
            var tokenizer = Tokenizer.FromGguf(model.File);
            var fromFile = ChatTemplates.Detect(model.File.GetOrDefault<string?>("tokenizer.chat_template", null));
            var template = CompletionTemplate.Resolve(chatTemplate, fromFile);
            return new LlameroEngine(model, tokenizer, template, modelId ?? DefaultId(path), cacheTypes);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The file name without <c>.gguf</c> (and without a split suffix's part number).</summary>
    public static string DefaultId(string path) => Path.GetFileNameWithoutExtension(path);

    /// <inheritdoc />
    public string ModelId { get; }

    /// <summary>The loaded model (e.g. to report what loading repacked).</summary>
    public LlamaModel Model => _model;

    /// <inheritdoc />
    public int TrainedContextSize => _model.Config.ContextLength;

    /// <inheritdoc />
    public int EmbeddingSize => _model.Config.EmbeddingLength;

    /// <inheritdoc />
    public Tokenizer Tokenizer { get; }

    /// <inheritdoc />
    public ChatTemplate Template { get; }

    /// <inheritdoc />
    public IModelSession CreateSession(int contextSize) => _model.CreateSession(contextSize, _cacheTypes);

    /// <inheritdoc />
    public IBatchDecoder CreateBatchDecoder(int maxTokens, int maxSequences) => _model.CreateBatchDecoder(maxTokens, maxSequences);

    /// <inheritdoc />
    public float[] Embed(IReadOnlyList<int> tokens)
    {
        // A fresh session sized to the input: embeddings never share a slot's cache.
        using var session = (LlamaSession)_model.CreateSession(tokens.Count);
        return session.EmbedMean(tokens.ToArray());
    }

    /// <summary>Unmaps the model.</summary>
    public void Dispose() => _model.Dispose();
}
