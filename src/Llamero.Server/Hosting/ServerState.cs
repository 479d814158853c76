namespace Llamero.Server.Hosting;

/// <summary>What every route handler needs: the (possibly still loading) model and the settings.</summary>
internal sealed record ServerState(EngineHost Host, ServerOptions Options);
