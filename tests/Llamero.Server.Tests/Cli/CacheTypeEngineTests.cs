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
        using var f32 = LlameroEngine.Load(TestPaths.Stories260K, cacheTypes: KvCacheOptions.F32);
        using var session = (LlamaSession)f32.CreateSession(64);
        Assert.Equal(KvCacheOptions.F32, session.CacheTypes);
        // The default is F16, as llama.cpp's: half the bytes.
        using var plain = LlameroEngine.Load(TestPaths.Stories260K);
        using var defaultSession = (LlamaSession)plain.CreateSession(64);
        Assert.Equal(KvCacheOptions.F16, defaultSession.CacheTypes);
        Assert.Equal(session.CacheBytes, 2 * defaultSession.CacheBytes);
    }
}
