namespace Llamero.Server.Dtos;

/// <summary>Answer of <c>GET /v1/models</c>.</summary>
public sealed class ModelList
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object => "list";

    /// <summary>The one loaded model.</summary>
    public required List<ModelInfo> Data { get; init; }
}

/// <summary>One model (also the answer of <c>GET /v1/models/{id}</c>).</summary>
public sealed class ModelInfo
{
    /// <summary>The id clients pass as <c>model</c>: the file name without extension.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>model</c>.</summary>
    public string Object => "model";

    /// <summary>Unix seconds the model was loaded.</summary>
    public required long Created { get; init; }

    /// <summary>Always <c>llamero</c>.</summary>
    public string OwnedBy => "llamero";
}
