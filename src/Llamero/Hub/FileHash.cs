using System.Security.Cryptography;

namespace Llamero.Hub;

/// <summary>The two hashes the hub reports: sha256 of an LFS object, and the git blob id of a file kept in git.</summary>
internal static class FileHash
{
    /// <summary>Lowercase hex hash of a file's bytes, optionally preceded by <paramref name="prefix"/>.</summary>
    public static async Task<string> HashAsync(string path, HashAlgorithmName algorithm, byte[]? prefix, Action<long>? onBytes, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(algorithm);
        if (prefix is not null)
            hash.AppendData(prefix);
        var buffer = new byte[1 << 20];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            onBytes?.Invoke(read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
