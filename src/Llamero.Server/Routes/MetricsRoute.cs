using Llamero.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>GET /metrics</c>: Prometheus text (requests, tokens, tokens/s, queue depth, busy slots).</summary>
internal static class MetricsRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapGet("/metrics", context =>
        {
            var scheduler = state.Host.SchedulerOrNull;
            var text = state.Host.Metrics.Render(scheduler?.QueueDepth ?? 0, scheduler?.BusySlots ?? 0, scheduler?.SlotCount ?? 0);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return context.Response.WriteAsync(text, context.RequestAborted);
        });
}
