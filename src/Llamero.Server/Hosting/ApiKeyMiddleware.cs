using System.Security.Cryptography;
using System.Text;
using Llamero.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace Llamero.Server.Hosting;

/// <summary>
/// With an API key configured, every route except the chat page (<c>/</c>) and <c>/health</c> needs
/// <c>Authorization: Bearer KEY</c> (compared in constant time); otherwise 401.
/// </summary>
internal static class ApiKeyMiddleware
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next, byte[]? expectedKey)
    {
        if (expectedKey is null || IsPublic(context.Request.Path))
            return next(context);
        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            throw ApiException.Unauthorized("Missing API key: send it as 'Authorization: Bearer KEY'.");
        var given = Encoding.UTF8.GetBytes(header[bearer.Length..].Trim());
        if (!CryptographicOperations.FixedTimeEquals(given, expectedKey))
            throw ApiException.Unauthorized("Incorrect API key provided.");
        return next(context);
    }

    private static bool IsPublic(PathString path) =>
        path == "/" || path == "/index.html" || path == "/health";
}
