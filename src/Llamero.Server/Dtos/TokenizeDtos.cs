namespace Llamero.Server.Dtos;

/// <summary>Body of <c>POST /tokenize</c> (llama.cpp's shape).</summary>
public sealed class TokenizeRequest
{
    /// <summary>Text to tokenize.</summary>
    public string? Content { get; set; }

    /// <summary>Add BOS (and EOS) as the model's metadata asks; default false, as llama.cpp.</summary>
    public bool? AddSpecial { get; set; }

    /// <summary>Also return each token's text.</summary>
    public bool? WithPieces { get; set; }
}

/// <summary>Answer of <c>POST /tokenize</c>.</summary>
public sealed class TokenizeResponse
{
    /// <summary>The token ids.</summary>
    public required int[] Tokens { get; init; }

    /// <summary>Each token's text, when asked for.</summary>
    public string[]? Pieces { get; init; }
}

/// <summary>Body of <c>POST /detokenize</c>.</summary>
public sealed class DetokenizeRequest
{
    /// <summary>Token ids to turn back into text.</summary>
    public int[]? Tokens { get; set; }
}

/// <summary>Answer of <c>POST /detokenize</c>.</summary>
public sealed class DetokenizeResponse
{
    /// <summary>The text.</summary>
    public required string Content { get; init; }
}

/// <summary>Answer of <c>GET /health</c> when ready.</summary>
public sealed class HealthResponse
{
    /// <summary><c>ok</c>.</summary>
    public required string Status { get; init; }
}
