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

    [Fact]
    public void A_block_type_the_heads_do_not_fit_is_refused_at_load()
    {
        // stories260K's heads are 8 elements: no whole 32-element Q8_0 block. The server refuses at start, not per request.
        var e = Assert.Throws<ArgumentException>(() => LlameroEngine.Load(TestPaths.Stories260K, cacheTypes: KvCacheOptions.Q8_0));
        Assert.Contains("K cache type q8_0 stores blocks of 32 elements, which do not divide this model's head size 8", e.Message);
    }
}
