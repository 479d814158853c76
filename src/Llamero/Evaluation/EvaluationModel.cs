using Llamero.Hub;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Evaluation;

/// <summary>A model opened for evaluation: the weights, its tokenizer, and the BOS id each chunk starts with.</summary>
public sealed class EvaluationModel : IDisposable
{
    private EvaluationModel(LlamaModel model, Tokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
    }

    /// <summary>The loaded model.</summary>
    public LlamaModel Model { get; }

    /// <summary>Its tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The token that replaces each chunk's first token, or -1 when the model adds no BOS.</summary>
    public int BosId => Tokenizer.AddBos ? Tokenizer.BosId : -1;

    /// <summary>Opens a local path or an <c>hf:</c> spec (downloaded first, see <see cref="ModelLocator"/>), loading
    /// the weights as <paramref name="load"/> says (null: <see cref="ModelLoadOptions.Default"/>).</summary>
    public static EvaluationModel Open(string pathOrSpec, IProgress<DownloadProgress>? download = null, ModelLoadOptions? load = null)
    {
        var model = LlamaModel.Load(ModelLocator.Resolve(pathOrSpec, download), load ?? ModelLoadOptions.Default);
        try
        {
            return new EvaluationModel(model, Tokenizer.FromGguf(model.File));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Tokenizes as llama.cpp's common_tokenize(ctx, text, add_special = true) does.</summary>
    public int[] Tokenize(string text) => Tokenizer.Encode(text, addSpecial: true);

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
