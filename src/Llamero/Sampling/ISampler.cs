namespace Llamero.Sampling;

/// <summary>
/// One step of a sampler chain (llama.cpp's <c>llama_sampler</c>): modifies or narrows the candidates, or, for a
/// picker, selects one. Samplers with memory (penalties, mirostat) learn from <see cref="Accept"/>.
/// </summary>
public interface ISampler
{
    /// <summary>Short name as llama.cpp prints it in its sampler chain line (e.g. <c>top-k</c>).</summary>
    string Name { get; }

    /// <summary>Applies this step to the candidates.</summary>
    void Apply(TokenCandidates candidates);

    /// <summary>Records a token that became part of the sequence (prompt or generated).</summary>
    void Accept(int token) { }

    /// <summary>Forgets every accepted token and restores the initial random state.</summary>
    void Reset() { }
}
