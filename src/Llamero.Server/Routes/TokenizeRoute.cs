using Llamero.Server.Dtos;
using Llamero.Server.Errors;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>POST /tokenize</c> <c>{"content": "...", "add_special": false}</c> → <c>{"tokens": [...]}</c>.</summary>
internal static class TokenizeRoute
{
    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapPost("/tokenize", async context =>
        {
            var request = await HttpJson.ReadAsync(context, ServerJsonContext.Default.TokenizeRequest, state.Options.MaxBodyBytes);
            if (request.Content is null)
                throw ApiException.BadRequest("content is required.", "content");
            var tokenizer = state.Host.Engine.Tokenizer;
            var tokens = tokenizer.Encode(request.Content, request.AddSpecial == true);
            await HttpJson.WriteAsync(context, new TokenizeResponse
            {
                Tokens = tokens,
                Pieces = request.WithPieces == true ? tokens.Select(id => Scheduling.Slot.PieceText(tokenizer, id)).ToArray() : null,
            }, ServerJsonContext.Default.TokenizeResponse);
        });
}
