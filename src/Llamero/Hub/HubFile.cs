namespace Llamero.Hub;

/// <summary>One file of a repo as the tree listing reports it.</summary>
/// <param name="Path">Path inside the repo, '/'-separated.</param>
/// <param name="Size">Size in bytes (of the LFS object for LFS files).</param>
/// <param name="Sha256">Lowercase hex sha256 of the LFS object; null for files kept in git itself.</param>
/// <param name="GitBlobId">The git blob id (sha1 of "blob SIZE\0" + bytes) of a non-LFS file, or of the LFS pointer.</param>
public sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobId);

/// <summary>What a HEAD on a file's resolve URL says about it.</summary>
/// <param name="Path">Path inside the repo.</param>
/// <param name="Size">Size in bytes (X-Linked-Size for LFS files, else Content-Length).</param>
/// <param name="ETag">X-Linked-Etag (the LFS sha256) or ETag (the git blob id), without quotes.</param>
/// <param name="Commit">X-Repo-Commit: the commit the revision resolved to, when the hub says.</param>
public sealed record HubFileMetadata(string Path, long Size, string ETag, string? Commit)
{
    /// <summary>The sha256 to verify against, when the ETag is one (64 hex digits: an LFS object).</summary>
    public string? Sha256 => ETag.Length == 64 && IsHex(ETag) ? ETag.ToLowerInvariant() : null;

    /// <summary>The git blob id to verify against, when the ETag is one (40 hex digits: a file stored in git).</summary>
    public string? GitBlobId => ETag.Length == 40 && IsHex(ETag) ? ETag.ToLowerInvariant() : null;

    private static bool IsHex(string s) => s.All(Uri.IsHexDigit);
}
