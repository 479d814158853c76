using Llamero.Server.Engine;
using Llamero.Tests.Support;

namespace Llamero.Server.Tests.Support;

/// <summary>The engine the server tests run against: the real stories260K model.</summary>
internal static class Engines
{
    public static IInferenceEngine Default() => LlameroEngine.Load(TestPaths.Stories260K);
}
