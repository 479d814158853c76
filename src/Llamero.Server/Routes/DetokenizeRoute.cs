using Llamero.Server.Dtos;
using Llamero.Server.Errors;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Llamero.Server.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>POST /detokenize</c> <c>{"tokens": [...]}</c> → <c>{"content": "..."}</c>.</summary>
internal static class DetokenizeRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapPost("/detokenize", async context =>
        {
            var request = await HttpJson.ReadAsync(context, ServerJsonContext.Default.DetokenizeRequest, state.Options.MaxBodyBytes);
            if (request.Tokens is null)
                throw ApiException.BadRequest("tokens is required.", "tokens");
            var tokenizer = state.Host.Engine.Tokenizer;
            TokenIds.Check(request.Tokens, tokenizer.VocabSize, "tokens");
            await HttpJson.WriteAsync(context, new DetokenizeResponse { Content = tokenizer.Decode(request.Tokens) },
                ServerJsonContext.Default.DetokenizeResponse);
        });
}
