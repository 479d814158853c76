using System.Text;
using LLama;
using LLama.Common;
using Llamero.Models;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Evaluation;

/// <summary>
/// llama.cpp (through <see cref="LlamaCppModel"/>) behind <see cref="IModelSession"/>, so the evaluation code can run on
/// the oracle's logits; Truncate re-evaluates the kept tokens. Also llama.cpp's own tokenizer for the same file.
/// </summary>
internal sealed class OracleSession : IModelSession
{
    private readonly LlamaCppModel _model;
    private readonly List<int> _history = [];

    private OracleSession(LlamaCppModel model, int contextSize)
    {
        _model = model;
        ContextSize = contextSize;
    }

    public static OracleSession Load(string path, int contextSize, Llamero.Models.KvCacheOptions? cacheTypes = null) =>
        new(LlamaCppModel.Load(path, contextSize, keyType: cacheTypes?.Keys, valueType: cacheTypes?.Values), contextSize);

    /// <summary>llama.cpp's tokenization of <paramref name="text"/> (BOS first when <paramref name="addBos"/>).</summary>
    public static int[] Tokenize(string path, string text, bool addBos = true)
    {
        LLamaWeights weights;
        lock (Vocabularies)
        {
            if (!Vocabularies.TryGetValue(path, out weights!))
            {
                using (LlamaCppModel.Load(path, 16)) { }   // makes sure the native library is initialised
                Vocabularies[path] = weights = LLamaWeights.LoadFromFile(new ModelParams(path));
            }
        }
        return weights.Tokenize(text, addBos, special: false, Encoding.UTF8).Select(t => (int)t).ToArray();
    }

    // Loaded once per test run and kept: tokenizing is called per task.
    private static readonly Dictionary<string, LLamaWeights> Vocabularies = [];

    public int ContextSize { get; }

    public int Position => _history.Count;

    public int VocabSize => _model.VocabSize;

    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        var logits = new float[tokens.Length * VocabSize];
        EvaluateAll(tokens, logits);
        return logits.AsSpan((tokens.Length - 1) * VocabSize);
    }

    public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var rows = _model.Evaluate(tokens.ToArray(), allLogits: true);
        for (var i = 0; i < rows.Length; i++)
            rows[i].CopyTo(logits.Slice(i * VocabSize, VocabSize));
        _history.AddRange(tokens.ToArray());
    }

    public void Truncate(int position)
    {
        if (position >= _history.Count)
            return;
        var keep = _history.Take(position).ToArray();
        _model.Reset();
        _history.Clear();
        if (keep.Length > 0)
            EvaluateAll(keep, new float[keep.Length * VocabSize]);
    }

    public void Shift(int keep, int discard) => throw new NotSupportedException();

    public void Dispose() => _model.Dispose();
}
