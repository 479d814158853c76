using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Llamero.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace Llamero.Server.Hosting;

/// <summary>Reads request bodies (size-limited, strict JSON) and writes JSON answers with the generated metadata.</summary>
internal static class HttpJson
{
    /// <summary>Writes <paramref name="value"/> as the response with <paramref name="status"/>.</summary>
    public static async Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    /// <summary>
    /// Reads and parses the body. 413 past <paramref name="maxBytes"/> (checked before and while reading);
    /// 400 for an empty body, malformed JSON, unknown fields or wrongly typed values, naming the field.
    /// </summary>
    public static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type, long maxBytes) where T : class
    {
        if (context.Request.ContentLength > maxBytes)
            throw ApiException.TooLarge(maxBytes);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw ApiException.TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            throw ApiException.BadRequest("The request body is empty: expected a JSON object.");
        try
        {
            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), type)
                   ?? throw ApiException.BadRequest("The request body is null: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw Describe(e);
        }
    }

    /// <summary>Turns a System.Text.Json error into an OpenAI-style 400 that names the field.</summary>
    private static ApiException Describe(JsonException e)
    {
        var param = e.Path is { Length: > 2 } path ? path[2..] : null; // "$.temperature" -> "temperature"
        var message = FirstSentence(e);
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var name = message.Split('\'') is { Length: > 2 } parts ? parts[1] : "?";
            var where = param is null || param == name ? "" : $" (at '{param}')";
            return ApiException.BadRequest($"Unrecognized request argument supplied: {name}{where}", param ?? name);
        }
        var position = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
        if (message.Contains("could not be converted to", StringComparison.Ordinal))
            return ApiException.BadRequest($"Invalid type for '{param}'{position}: expected {Expected(message)}.", param);
        if (param is not null && message.StartsWith("expected ", StringComparison.Ordinal))
            return ApiException.BadRequest($"Invalid value for '{param}'{position}: {message}.", param); // our converters
        return ApiException.BadRequest($"The request body is not valid JSON{position}: {message}", param);
    }

    /// <summary>"... converted to System.Nullable`1[System.Double]." → "a number".</summary>
    private static string Expected(string message) => message switch
    {
        _ when message.Contains("Double", StringComparison.Ordinal) || message.Contains("Single", StringComparison.Ordinal) => "a number",
        _ when message.Contains("Int32", StringComparison.Ordinal) || message.Contains("Int64", StringComparison.Ordinal) => "an integer",
        _ when message.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ when message.Contains("System.String", StringComparison.Ordinal) && !message.Contains("Dictionary", StringComparison.Ordinal) => "a string",
        _ when message.Contains("List", StringComparison.Ordinal) || message.Contains("[]", StringComparison.Ordinal) => "an array",
        _ => "an object",
    };

    private static string FirstSentence(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
