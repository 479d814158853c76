using Llamero.Server.Dtos;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one loaded model.</summary>
internal static class ModelsRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state)
    {
        app.MapGet("/v1/models", context => HttpJson.WriteAsync(context,
            new ModelList { Data = [Info(state)] }, ServerJsonContext.Default.ModelList));
        app.MapGet("/v1/models/{id}", context =>
        {
            state.Host.RequireModel(context.Request.RouteValues["id"] as string, "id");
            return HttpJson.WriteAsync(context, Info(state), ServerJsonContext.Default.ModelInfo);
        });
    }

    private static ModelInfo Info(ServerState state) => new() { Id = state.Host.Engine.ModelId, Created = state.Host.LoadedAt };
}
