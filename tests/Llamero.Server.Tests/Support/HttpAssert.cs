using System.Net;
using System.Text;
using System.Text.Json;

namespace Llamero.Server.Tests.Support;

/// <summary>Sends raw requests and checks OpenAI's error shape.</summary>
internal static class HttpAssert
{
    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Asserts the status and the <c>{"error":{message,type,param,code}}</c> shape; returns the error object.</summary>
    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _), "error.param missing");
        Assert.True(error.TryGetProperty("code", out _), "error.code missing");
        return error;
    }

    public static string Message(this JsonElement error) => error.GetProperty("message").GetString()!;

    public static string? Param(this JsonElement error) => error.GetProperty("param").GetString();
}
