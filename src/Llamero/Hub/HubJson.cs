using System.Text.Json.Serialization;

namespace Llamero.Hub;

/// <summary>One entry of <c>GET /api/models/{repo}/tree/{revision}?recursive=true</c>.</summary>
internal sealed class TreeEntry
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("path")] public string? Path { get; set; }
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("oid")] public string? Oid { get; set; }
    [JsonPropertyName("lfs")] public TreeLfs? Lfs { get; set; }
}

/// <summary>The <c>lfs</c> object of a tree entry: the real object behind the git pointer.</summary>
internal sealed class TreeLfs
{
    [JsonPropertyName("oid")] public string? Oid { get; set; }
    [JsonPropertyName("size")] public long Size { get; set; }
}

/// <summary>Source-generated JSON (the library is AOT-compatible: no reflection serialization).</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(List<TreeEntry>))]
[JsonSerializable(typeof(DownloadState))]
[JsonSerializable(typeof(DownloadedFileRecord))]
internal sealed partial class HubJsonContext : JsonSerializerContext;
