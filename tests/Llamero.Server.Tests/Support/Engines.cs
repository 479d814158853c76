using Llamero.Server.Engine;

namespace Llamero.Server.Tests.Support;

/// <summary>The engine the server tests run against.</summary>
internal static class Engines
{
    public static IInferenceEngine Default() => new CountingEngine();
}
