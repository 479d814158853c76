namespace Llamero.Server;

/// <summary>Constants that identify this build in responses.</summary>
internal static class ServerInfo
{
    /// <summary>Sent as <c>system_fingerprint</c>.</summary>
    public static readonly string Fingerprint =
        "llamero-" + (typeof(ServerInfo).Assembly.GetName().Version?.ToString() ?? "0");
}
