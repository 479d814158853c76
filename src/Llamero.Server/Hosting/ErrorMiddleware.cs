using System.Net;
using Llamero.Server.Dtos;
using Llamero.Server.Errors;
using Llamero.Server.Json;
using Llamero.Server.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Hosting;

/// <summary>
/// Outermost middleware: turns <see cref="ApiException"/> (and anything unexpected) into OpenAI's error JSON,
/// and counts every request by route and status for <c>/metrics</c>.
/// </summary>
internal static class ErrorMiddleware
{
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next, ServerMetrics metrics)
    {
        try
        {
            await next(context);
        }
        catch (ApiException e)
        {
            await WriteErrorAsync(context, e);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits (e.g. a chunked body past the size limit) land here.
            await WriteErrorAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new ApiException(HttpStatusCode.RequestEntityTooLarge, e.Message, "invalid_request_error", null, "request_too_large")
                : ApiException.BadRequest(e.Message));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; nothing to answer.
        }
        catch (Exception e)
        {
            await WriteErrorAsync(context, GenerationFailure(e, "Internal error"));
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.Request(route, context.Response.StatusCode);
        }
    }

    /// <summary>
    /// The error a failed generation answers: 400 when the request's own grammar could not go on (too ambiguous, or no
    /// token continues it; that can only show while generating), else a 500 that names the failure after <paramref name="prefix"/>.
    /// </summary>
    public static ApiException GenerationFailure(Exception e, string prefix) =>
        (e as Llamero.Sampling.Grammars.GrammarGenerationException ?? e.InnerException as Llamero.Sampling.Grammars.GrammarGenerationException) is { } g
            ? ApiException.BadRequest(g.Message, "grammar", g is Llamero.Sampling.Grammars.GrammarAmbiguityException ? "grammar_too_ambiguous" : "grammar_dead_end")
            : new ApiException(HttpStatusCode.InternalServerError, $"{prefix}: {e.GetType().Name}: {e.Message}", "server_error");

    /// <summary>Writes <paramref name="error"/> unless the response has already started (then the stream just ends).</summary>
    public static async Task WriteErrorAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted)
            return;
        context.Response.Clear();
        if (error.RetryAfterSeconds is { } seconds)
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await HttpJson.WriteAsync(context, ToBody(error), ServerJsonContext.Default.ErrorResponse, (int)error.Status);
    }

    /// <summary>The JSON envelope of an error.</summary>
    public static ErrorResponse ToBody(ApiException error) => new()
    {
        Error = new ErrorBody { Message = error.Message, Type = error.Type, Param = error.Param, Code = error.Code },
    };
}
