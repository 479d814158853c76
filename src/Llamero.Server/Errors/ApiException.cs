using System.Net;

namespace Llamero.Server.Errors;

/// <summary>
/// A request the server refuses, carried to the error middleware and written in OpenAI's error shape
/// <c>{"error":{"message","type","param","code"}}</c>. Never used for bugs: those stay ordinary exceptions.
/// </summary>
public sealed class ApiException(HttpStatusCode status, string message, string type, string? param = null, string? code = null)
    : Exception(message)
{
    /// <summary>HTTP status to answer with.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>OpenAI error type, e.g. <c>invalid_request_error</c>.</summary>
    public string Type { get; } = type;

    /// <summary>The request field at fault, when there is one.</summary>
    public string? Param { get; } = param;

    /// <summary>Machine-readable code, e.g. <c>invalid_api_key</c> or <c>context_length_exceeded</c>.</summary>
    public string? Code { get; } = code;

    /// <summary>Seconds the client should wait before retrying (sent as <c>Retry-After</c>), for 429/503.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>400 invalid_request_error naming the field.</summary>
    public static ApiException BadRequest(string message, string? param = null, string? code = null) =>
        new(HttpStatusCode.BadRequest, message, "invalid_request_error", param, code);

    /// <summary>404 for an unknown model or route.</summary>
    public static ApiException NotFound(string message, string? param = null, string code = "not_found") =>
        new(HttpStatusCode.NotFound, message, "invalid_request_error", param, code);

    /// <summary>401 for a missing or wrong API key.</summary>
    public static ApiException Unauthorized(string message) =>
        new(HttpStatusCode.Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    /// <summary>413 for a body over the limit.</summary>
    public static ApiException TooLarge(long limit) =>
        new(HttpStatusCode.RequestEntityTooLarge, $"Request body is larger than the limit of {limit} bytes.",
            "invalid_request_error", null, "request_too_large");

    /// <summary>501 for a feature this model or build cannot serve.</summary>
    public static ApiException NotImplemented(string message) =>
        new(HttpStatusCode.NotImplemented, message, "invalid_request_error", null, "not_implemented");

    /// <summary>503 while the model loads or when every slot and queue place is taken.</summary>
    public static ApiException Unavailable(string message, string code, int retryAfterSeconds) =>
        new(HttpStatusCode.ServiceUnavailable, message, "server_error", null, code) { RetryAfterSeconds = retryAfterSeconds };
}
