namespace Llamero.Server.Dtos;

/// <summary>OpenAI's error envelope: <c>{"error":{...}}</c>.</summary>
public sealed class ErrorResponse
{
    /// <summary>The error itself.</summary>
    public required ErrorBody Error { get; init; }
}

/// <summary>The body of an OpenAI error; <c>param</c> and <c>code</c> are always written, null when unknown.</summary>
public sealed class ErrorBody
{
    /// <summary>Human-readable explanation, naming the field and the numbers involved.</summary>
    public required string Message { get; init; }

    /// <summary>Error class, e.g. <c>invalid_request_error</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The request field at fault.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public string? Param { get; init; }

    /// <summary>Machine-readable code.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    public string? Code { get; init; }
}
