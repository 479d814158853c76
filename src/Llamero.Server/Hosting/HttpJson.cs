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
        const string unmapped = "could not be mapped to any .NET member";
        if (e.Message.Contains(unmapped, StringComparison.Ordinal))
        {
            var name = e.Message.Split('\'') is { Length: > 2 } parts ? parts[1] : "?";
            var where = param is null ? "" : $" (in '{param}')";
            return ApiException.BadRequest($"Unrecognized request argument supplied: {name}{where}", name);
        }
        var position = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
        if (e.InnerException is not null || param is null || e.Message.StartsWith("'", StringComparison.Ordinal) ||
            e.Message.Contains("is an invalid", StringComparison.Ordinal))
        {
            return ApiException.BadRequest($"The request body is not valid JSON{position}: {FirstSentence(e)}", param);
        }
        return ApiException.BadRequest($"Invalid type for '{param}'{position}: {FirstSentence(e)}", param);
    }

    private static string FirstSentence(JsonException e)
    {
        var message = e.InnerException?.Message ?? e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
