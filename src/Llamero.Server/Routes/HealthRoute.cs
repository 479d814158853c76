using Llamero.Server.Dtos;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>GET /health</c>: 200 <c>{"status":"ok"}</c> once loaded, 503 with Retry-After while loading.</summary>
internal static class HealthRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapGet("/health", context =>
        {
            if (!state.Host.IsReady)
                _ = state.Host.Engine; // throws the 503 "Loading model." (or the load failure)
            return HttpJson.WriteAsync(context, new HealthResponse { Status = "ok" }, ServerJsonContext.Default.HealthResponse);
        });
}
