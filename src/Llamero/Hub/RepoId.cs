namespace Llamero.Hub;

/// <summary>Checks repo ids ("owner/name") and file paths from users and listings before they touch URLs or disks.</summary>
internal static class RepoId
{
    /// <summary>Throws a clear error unless <paramref name="repo"/> looks like "owner/name" (or a bare legacy "name").</summary>
    public static void Validate(string repo)
    {
        var parts = repo.Split('/');
        if (parts.Length is < 1 or > 2 || parts.Any(p => p.Length is 0 or > 96 || p is "." or ".." || !p.All(IsRepoChar)))
            throw new HubException(HubErrorKind.NotFound, $"'{repo}' is not a repo id: expected OWNER/NAME (letters, digits, '-', '_', '.')");
    }

    /// <summary>
    /// The local path of a repo file under <paramref name="root"/>; refuses absolute paths and ".." so a listing can
    /// never write outside the target folder.
    /// </summary>
    public static string LocalPath(string root, string file)
    {
        var segments = file.Split('/');
        if (file.Length == 0 || file.StartsWith('/') || file.Contains('\\') || segments.Any(s => s is "" or "." or ".."))
            throw new HubException(HubErrorKind.Protocol, $"refusing the repo path '{file}': it would leave the target folder");
        return Path.Combine([root, .. segments]);
    }

    private static bool IsRepoChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
