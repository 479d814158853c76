using Llamero.Models;
using Llamero.Server.Engine;
using Llamero.Tests.Support;

namespace Llamero.Server.Tests.Cli;

/// <summary><c>serve -ctk/-ctv</c>: the engine's slot sessions keep their KV caches in the types asked for.</summary>
public sealed class CacheTypeEngineTests
{
    [Fact]
    public void Slot_sessions_get_the_engine_cache_types()
    {
        using var f16 = LlameroEngine.Load(TestPaths.Stories260K, cacheTypes: KvCacheOptions.F16);
        using var session = (LlamaSession)f16.CreateSession(64);
        Assert.Equal(KvCacheOptions.F16, session.CacheTypes);
        using var plain = LlameroEngine.Load(TestPaths.Stories260K);
        using var defaultSession = (LlamaSession)plain.CreateSession(64);
        Assert.Equal(KvCacheOptions.Default, defaultSession.CacheTypes);
        Assert.Equal(2 * session.CacheBytes, defaultSession.CacheBytes);
    }
}
