using Llamero.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>GET /</c>: the chat page (one embedded HTML file with its script, no external assets).</summary>
internal static class ChatPageRoute
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(ChatPageRoute).Assembly.GetManifestResourceStream("Llamero.Server.chat.html")
                           ?? throw new InvalidOperationException("The embedded chat page is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Map(IEndpointRouteBuilder app, ServerState state)
    {
        RequestDelegate serve = context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            return context.Response.Body.WriteAsync(Page.Value, context.RequestAborted).AsTask();
        };
        app.MapGet("/", serve);
        app.MapGet("/index.html", serve);
    }
}
