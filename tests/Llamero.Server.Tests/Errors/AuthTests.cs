using System.Net;
using System.Net.Http.Headers;
using Llamero.Server.Hosting;
using Llamero.Server.Tests.Support;

namespace Llamero.Server.Tests.Errors;

/// <summary>--api-key: 401 without or with a wrong bearer key; the page and /health stay public.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(Engines.Default, new ServerOptions { ApiKey = "sekret-key" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Missing_or_wrong_key_is_401_and_the_right_key_passes()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        var missing = await HttpAssert.ErrorAsync(await anonymous.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_api_key", missing.GetProperty("code").GetString());

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sekret-kez");
        await HttpAssert.ErrorAsync(await anonymous.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        await HttpAssert.ErrorAsync(await HttpAssert.PostJsonAsync(anonymous, "/tokenize", """{"content":"a"}"""), HttpStatusCode.Unauthorized);

        Assert.Equal(HttpStatusCode.OK, (await _server.Http.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task Page_and_health_need_no_key()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
    }
}
