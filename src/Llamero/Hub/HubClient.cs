using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Llamero.Hub;

/// <summary>
/// The Hugging Face Hub's HTTP API, as huggingface_hub uses it: the recursive tree listing of a repo, a HEAD on
/// <c>{endpoint}/{repo}/resolve/{revision}/{file}</c> for a file's size and hash (X-Linked-Size, X-Linked-Etag, ETag),
/// and ranged GETs that follow the redirect to the CDN. The token goes to the hub's own host only.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <summary>Creates a client for the hub described by <paramref name="settings"/> (default: from the environment).</summary>
    public HubClient(HubSettings? settings = null)
    {
        Settings = settings ?? HubSettings.FromEnvironment();
        _endpoint = new Uri(Settings.Endpoint.TrimEnd('/') + "/");
        // Redirects are followed by hand: the HEAD must see the hub's own 302 (its X-Linked-* headers live there)
        // and the token must never travel to another host.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = 64,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd($"llamero/{typeof(HubClient).Assembly.GetName().Version}");
    }

    /// <summary>The endpoint, token and cache this client uses.</summary>
    public HubSettings Settings { get; }

    /// <summary>Seconds without a byte arriving before a transfer counts as dropped (and is retried).</summary>
    public TimeSpan ReadIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Every file of <paramref name="repo"/> at <paramref name="revision"/>, following the listing's pages.</summary>
    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repo, string revision = "main", CancellationToken cancellationToken = default)
    {
        RepoId.Validate(repo);
        var files = new List<HubFile>();
        Uri? url = new(_endpoint, $"api/models/{repo}/tree/{Uri.EscapeDataString(revision)}?recursive=true&expand=false");
        for (var page = 0; url is not null; page++)
        {
            if (page > 10_000)
                throw new HubException(HubErrorKind.Protocol, $"the file listing of {repo} never ends (more than 10000 pages)");
            using var response = await SendAsync(HttpMethod.Get, url, null, followRedirects: true, cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(response, repo, file: null, revision);
            List<TreeEntry>? entries;
            try
            {
                var json = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                entries = await JsonSerializer.DeserializeAsync(json, HubJsonContext.Default.ListTreeEntry, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new HubException(HubErrorKind.Protocol, $"the file listing of {repo} from {url} is not valid JSON: {e.Message}", e);
            }
            foreach (var entry in entries ?? [])
            {
                if (entry.Type != "file" || string.IsNullOrEmpty(entry.Path))
                    continue;
                var sha = entry.Lfs?.Oid is { Length: 64 } oid ? oid.ToLowerInvariant() : null;
                var size = entry.Lfs is not null ? entry.Lfs.Size : entry.Size;
                files.Add(new HubFile(entry.Path, size, sha, entry.Oid));
            }
            url = NextPage(response, url);
        }
        return files;
    }

    /// <summary>HEADs a file's resolve URL and reads its size and hash, as huggingface_hub's get_hf_file_metadata does.</summary>
    public async Task<HubFileMetadata> GetMetadataAsync(string repo, string file, string revision = "main", CancellationToken cancellationToken = default)
    {
        var url = ResolveUrl(repo, file, revision);
        // Follow only redirects on the hub itself (a renamed repo); stop at the first one to another host (the CDN).
        using var response = await SendAsync(HttpMethod.Head, url, null, followRedirects: false, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(response, repo, file, revision);
        var headers = response.Headers;
        var etag = Header(headers, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(headers, "ETag");
        if (etag is null)
            throw new HubException(HubErrorKind.Protocol, $"the hub gave no ETag for {repo}/{file}: cannot verify the download");
        var sizeText = Header(headers, "X-Linked-Size");
        long size;
        if (sizeText is not null)
        {
            if (!long.TryParse(sizeText, out size) || size < 0)
                throw new HubException(HubErrorKind.Protocol, $"the hub gave an invalid X-Linked-Size '{sizeText}' for {repo}/{file}");
        }
        else if (response.Content.Headers.ContentLength is { } length && (int)response.StatusCode is >= 200 and < 300)
            size = length;
        else
            throw new HubException(HubErrorKind.Protocol, $"the hub gave no size (X-Linked-Size / Content-Length) for {repo}/{file}");
        return new HubFileMetadata(file, size, CleanETag(etag), Header(headers, "X-Repo-Commit"));
    }

    /// <summary>
    /// Opens bytes [<paramref name="start"/>, <paramref name="endInclusive"/>] of a file, following redirects.
    /// The returned stream starts at <paramref name="start"/> even when the server ignores the Range header.
    /// </summary>
    internal async Task<(HttpResponseMessage Response, Stream Body)> OpenRangeAsync(
        string repo, string file, string revision, long start, long endInclusive, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(repo, file, revision);
        var range = new RangeHeaderValue(start, endInclusive);
        var response = await SendAsync(HttpMethod.Get, url, range, followRedirects: true, cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFailed(response, repo, file, revision);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                var from = response.Content.Headers.ContentRange?.From;
                if (from != start)
                    throw new HubException(HubErrorKind.Protocol, $"asked {repo}/{file} for bytes from {start}, the server sent from {from?.ToString() ?? "?"}");
            }
            else
            {
                // A server that ignores Range sends the whole file: skip to where we are.
                await SkipAsync(body, start, cancellationToken).ConfigureAwait(false);
            }
            return (response, body);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The resolve URL of a file: {endpoint}/{repo}/resolve/{revision}/{file}, each part escaped.</summary>
    public Uri ResolveUrl(string repo, string file, string revision)
    {
        RepoId.Validate(repo);
        var escapedFile = string.Join('/', file.Split('/').Select(Uri.EscapeDataString));
        return new Uri(_endpoint, $"{repo}/resolve/{Uri.EscapeDataString(revision)}/{escapedFile}");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, RangeHeaderValue? range, bool followRedirects, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.ParseAdd("identity");
            if (range is not null)
                request.Headers.Range = range;
            if (Settings.Token is not null && IsHubHost(url))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Settings.Token);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new HubException(HubErrorKind.Network, $"cannot reach {url.GetLeftPart(UriPartial.Authority)}: {e.Message}", e);
            }
            var status = (int)response.StatusCode;
            if (status is < 300 or > 399 || response.Headers.Location is not { } location)
                return response;
            var target = location.IsAbsoluteUri ? location : new Uri(url, location);
            var sameHost = target.Host == url.Host && target.Port == url.Port;
            if ((!followRedirects && !sameHost) || hop >= MaxRedirects)
                return response;
            response.Dispose();
            url = target;
        }
    }

    private bool IsHubHost(Uri url) => url.Host == _endpoint.Host && url.Port == _endpoint.Port;

    private void ThrowIfFailed(HttpResponseMessage response, string repo, string? file, string revision)
    {
        var status = (int)response.StatusCode;
        if (status < 400)
            return;
        var code = Header(response.Headers, "X-Error-Code");
        var serverMessage = Header(response.Headers, "X-Error-Message");
        var what = file is null ? $"repo '{repo}'" : $"'{file}' in repo '{repo}'";
        var tokenHint = Settings.Token is null
            ? "HF_TOKEN is not set: gated and private repos need a token (huggingface.co/settings/tokens)"
            : "HF_TOKEN was sent: check that it has access to this repo (gated repos: accept the conditions on the model page)";
        string message;
        HubErrorKind kind;
        if (code == "GatedRepo" || status is 401 or 403)
        {
            kind = HubErrorKind.Unauthorized;
            message = code == "GatedRepo"
                ? $"{repo} is a gated repo (HTTP {status}): {tokenHint}"
                : $"access to {repo} denied (HTTP {status}): the repo is gated or private, or does not exist; {tokenHint}";
        }
        else if (status == 404 || code is "RepoNotFound" or "EntryNotFound" or "RevisionNotFound")
        {
            kind = HubErrorKind.NotFound;
            message = code switch
            {
                "RepoNotFound" => $"repo not found: '{repo}' (HTTP 404)",
                "RevisionNotFound" => $"revision '{revision}' not found in repo '{repo}' (HTTP 404)",
                "EntryNotFound" => $"file not found: {what} at revision '{revision}' (HTTP 404)",
                _ => $"repo or file not found: {what} at revision '{revision}' (HTTP 404)",
            };
        }
        else
        {
            kind = status >= 500 ? HubErrorKind.Network : HubErrorKind.Protocol;
            message = $"the hub answered HTTP {status} for {what}";
        }
        if (serverMessage is not null)
            message += $" [{serverMessage}]";
        response.Dispose();
        throw new HubException(kind, message) { StatusCode = status };
    }

    private static Uri? NextPage(HttpResponseMessage response, Uri current)
    {
        // Link: <https://huggingface.co/api/models/x/tree/main?cursor=...>; rel="next"
        if (!response.Headers.TryGetValues("Link", out var links))
            return null;
        foreach (var part in links.SelectMany(l => l.Split(',')))
        {
            var pieces = part.Split(';');
            if (pieces.Length < 2 || !pieces.Skip(1).Any(p => p.Trim().Replace(" ", "") is "rel=\"next\"" or "rel=next"))
                continue;
            var target = pieces[0].Trim().TrimStart('<').TrimEnd('>');
            return Uri.TryCreate(current, target, out var next) ? next : null;
        }
        return null;
    }

    private static async Task SkipAsync(Stream body, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(count, buffer.Length)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                throw new IOException("the connection closed before the requested range");
            count -= read;
        }
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string CleanETag(string etag)
    {
        var tag = etag.Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal))
            tag = tag[2..];
        return tag.Trim('"');
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
