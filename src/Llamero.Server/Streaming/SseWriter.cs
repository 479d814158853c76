using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Llamero.Server.Streaming;

/// <summary>
/// Server-sent events exactly as OpenAI frames them: each event is <c>data: {json}\n\n</c>, flushed at once, and
/// the stream ends with <c>data: [DONE]\n\n</c>.
/// </summary>
internal sealed class SseWriter(HttpContext context)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Sends the headers (200, text/event-stream, no caching or proxy buffering).</summary>
    public async Task StartAsync()
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(context.RequestAborted);
    }

    /// <summary>Writes one <c>data:</c> event.</summary>
    public async Task WriteAsync<T>(T value, JsonTypeInfo<T> type)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var body = context.Response.Body;
        var ct = context.RequestAborted;
        await body.WriteAsync(Prefix, ct);
        await body.WriteAsync(json, ct);
        await body.WriteAsync(Separator, ct);
        await body.FlushAsync(ct);
    }

    /// <summary>Writes the closing <c>data: [DONE]</c>.</summary>
    public async Task WriteDoneAsync()
    {
        await context.Response.Body.WriteAsync(Done, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
