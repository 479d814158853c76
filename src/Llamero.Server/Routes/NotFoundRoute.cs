using Llamero.Server.Errors;
using Llamero.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary>Any other path: 404 in OpenAI's error shape, naming the method and path.</summary>
internal static class NotFoundRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapFallback(context => throw ApiException.NotFound(
            $"Unknown route: {context.Request.Method} {context.Request.Path}.", code: "unknown_url"));
}
