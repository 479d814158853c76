using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Llamero.Tests.Hub;

/// <summary>
/// A stand-in for huggingface.co on 127.0.0.1, faithful to what the client relies on: the recursive tree listing
/// (paged by a Link header), HEAD/GET on /{repo}/resolve/{rev}/{file} answering LFS files with a 302 to a CDN on
/// another port (X-Linked-Etag, X-Linked-Size, X-Repo-Commit on the redirect) and git files directly (ETag = blob id),
/// Range requests (206 + Content-Range), X-Error-Code on 401/404. Faults can be switched on: dropped connections,
/// corrupted bytes.
/// </summary>
public sealed class FakeHub : IDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly Server _hub;
    private readonly Server _cdn;
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private int _dropsLeft;

    public FakeHub()
    {
        _hub = new Server(HandleHubAsync);
        _cdn = new Server(HandleCdnAsync);
    }

    /// <summary>Base URL of the hub (what HF_ENDPOINT would hold).</summary>
    public string Endpoint => _hub.BaseUrl.TrimEnd('/');

    /// <summary>Entries per page of the tree listing.</summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>The next N CDN GETs send headers and <see cref="DropAfterBytes"/> bytes, then cut the connection.</summary>
    public int DropNextDownloads { get => _dropsLeft; set => _dropsLeft = value; }

    /// <summary>Bytes a dropped transfer delivers before the cut.</summary>
    public int DropAfterBytes { get; set; } = 100_000;

    /// <summary>When true the CDN answers every GET with the whole file (200), as a server without Range support.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>When true the CDN flips a byte of every transfer (so the sha256 won't match).</summary>
    public bool Corrupt { get; set; }

    /// <summary>Every request seen: "HUB|CDN METHOD PATH RANGE AUTH".</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Bytes of content the CDN has sent (partial transfers included).</summary>
    public long CdnBytesSent => Interlocked.Read(ref _cdnBytes);
    private long _cdnBytes;

    /// <summary>Adds a repo; <paramref name="token"/> non-null makes it gated (401 without that bearer token).</summary>
    public void AddRepo(string id, string? token = null) => _repos[id] = new Repo(token);

    /// <summary>Adds a file: <paramref name="lfs"/> files are served through the CDN redirect.</summary>
    public void AddFile(string repo, string path, byte[] content, bool lfs = true)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var blobId = Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));
        _repos[repo].Files[path] = new RepoFile(content, lfs, sha, blobId);
        _blobs[sha] = content;
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task HandleHubAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Log.Enqueue($"HUB {request.HttpMethod} {request.Url.PathAndQuery} {request.Headers["Range"]} {request.Headers["Authorization"]}");
        response.Headers["X-Repo-Commit"] = Commit;

        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            // /api/models/{owner}/{name}/tree/{rev}
            var rest = path["/api/models/".Length..].Split('/');
            if (rest.Length < 4 || rest[2] != "tree" || !Authorize(context, rest[0] + "/" + rest[1], out var repo))
            {
                if (rest.Length < 4 || rest[2] != "tree")
                    Fail(response, 404, null);
                return;
            }
            var cursor = int.TryParse(request.QueryString["cursor"], out var c) ? c : 0;
            var entries = repo.Files.OrderBy(f => f.Key, StringComparer.Ordinal).Skip(cursor).Take(PageSize).Select(f => f.Value.Lfs
                ? (object)new { type = "file", oid = f.Value.BlobId, size = 134, path = f.Key, lfs = new { oid = f.Value.Sha256, size = f.Value.Content.Length, pointerSize = 134 } }
                : new { type = "file", oid = f.Value.BlobId, size = f.Value.Content.Length, path = f.Key }).ToList();
            if (cursor + PageSize < repo.Files.Count)
                response.Headers["Link"] = $"<{Endpoint}/api/models/{rest[0]}/{rest[1]}/tree/{rest[3]}?recursive=true&cursor={cursor + PageSize}>; rel=\"next\"";
            await WriteAsync(response, 200, "application/json", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entries)));
            return;
        }

        // /{owner}/{name}/resolve/{rev}/{file...}
        var parts = path.TrimStart('/').Split('/', 5);
        if (parts.Length < 5 || parts[2] != "resolve")
        {
            Fail(response, 404, null);
            return;
        }
        if (!Authorize(context, parts[0] + "/" + parts[1], out var owner))
            return;
        if (!owner.Files.TryGetValue(parts[4], out var file))
        {
            Fail(response, 404, "EntryNotFound");
            return;
        }
        if (file.Lfs)
        {
            response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
            response.Headers["X-Linked-Size"] = file.Content.Length.ToString();
            response.Headers["ETag"] = $"\"{file.BlobId}\"";
            response.RedirectLocation = $"{_cdn.BaseUrl}blobs/{file.Sha256}?X-Amz-Signature=fake";
            response.StatusCode = 302;
            response.Close();
            return;
        }
        response.Headers["ETag"] = $"\"{file.BlobId}\"";
        await ServeAsync(context, file.Content, cdn: false);
    }

    private async Task HandleCdnAsync(HttpListenerContext context)
    {
        var request = context.Request;
        Log.Enqueue($"CDN {request.HttpMethod} {request.Url!.AbsolutePath} {request.Headers["Range"]} {request.Headers["Authorization"]}");
        var sha = request.Url.AbsolutePath.Split('/').Last();
        if (!_blobs.TryGetValue(sha, out var content))
        {
            Fail(context.Response, 404, null);
            return;
        }
        context.Response.Headers["ETag"] = $"\"{sha}\"";
        await ServeAsync(context, content, cdn: true);
    }

    private async Task ServeAsync(HttpListenerContext context, byte[] content, bool cdn)
    {
        var request = context.Request;
        var response = context.Response;
        long start = 0, end = content.Length - 1;
        var status = 200;
        if (!(cdn && IgnoreRange) && request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            var bounds = range["bytes=".Length..].Split('-');
            start = long.Parse(bounds[0]);
            if (bounds[1].Length > 0)
                end = Math.Min(end, long.Parse(bounds[1]));
            if (start > end)
            {
                response.Headers["Content-Range"] = $"bytes */{content.Length}";
                Fail(response, 416, null);
                return;
            }
            status = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{end}/{content.Length}";
        }
        response.Headers["Accept-Ranges"] = "bytes";
        response.StatusCode = status;
        var length = end - start + 1;
        response.ContentLength64 = length;
        if (request.HttpMethod == "HEAD")
        {
            response.Close();
            return;
        }
        var slice = content.AsMemory((int)start, (int)length).ToArray();
        if (cdn && Corrupt)
            slice[slice.Length / 2] ^= 0x5A;
        if (cdn && Interlocked.Decrement(ref _dropsLeft) >= 0)
        {
            var cut = Math.Min(DropAfterBytes, slice.Length - 1);
            await response.OutputStream.WriteAsync(slice.AsMemory(0, cut));
            await response.OutputStream.FlushAsync();
            Interlocked.Add(ref _cdnBytes, cut);
            response.Abort();   // the connection dies mid-file
            return;
        }
        Interlocked.Exchange(ref _dropsLeft, 0);
        await response.OutputStream.WriteAsync(slice);
        if (cdn)
            Interlocked.Add(ref _cdnBytes, slice.Length);
        response.Close();
    }

    private bool Authorize(HttpListenerContext context, string repoId, out Repo repo)
    {
        if (!_repos.TryGetValue(repoId, out repo!))
        {
            Fail(context.Response, 404, "RepoNotFound");
            return false;
        }
        if (repo.Token is not null && context.Request.Headers["Authorization"] != "Bearer " + repo.Token)
        {
            Fail(context.Response, 401, "GatedRepo", "Access to model " + repoId + " is restricted.");
            return false;
        }
        return true;
    }

    private static void Fail(HttpListenerResponse response, int status, string? errorCode, string? message = null)
    {
        if (errorCode is not null)
            response.Headers["X-Error-Code"] = errorCode;
        if (message is not null)
            response.Headers["X-Error-Message"] = message;
        response.StatusCode = status;
        response.ContentLength64 = 0;
        response.Close();
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string type, byte[] body)
    {
        response.StatusCode = status;
        response.ContentType = type;
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
        response.Close();
    }

    public void Dispose()
    {
        _hub.Dispose();
        _cdn.Dispose();
    }

    private sealed record Repo(string? Token)
    {
        public Dictionary<string, RepoFile> Files { get; } = new(StringComparer.Ordinal);
    }

    private sealed record RepoFile(byte[] Content, bool Lfs, string Sha256, string BlobId);

    /// <summary>An HttpListener on a free 127.0.0.1 port, handling each request on the thread pool.</summary>
    private sealed class Server : IDisposable
    {
        private readonly HttpListener _listener;
        private readonly Func<HttpListenerContext, Task> _handler;

        public Server(Func<HttpListenerContext, Task> handler)
        {
            _handler = handler;
            for (var attempt = 0; ; attempt++)
            {
                var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
                BaseUrl = $"http://127.0.0.1:{port}/";
                _listener = new HttpListener();
                _listener.Prefixes.Add(BaseUrl);
                try
                {
                    _listener.Start();
                    break;
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    _listener.Close();   // the port was taken between probe and bind: try another
                }
            }
            _ = Task.Run(AcceptLoopAsync);
        }

        public string BaseUrl { get; } = "";

        private async Task AcceptLoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await _handler(context);
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                        // the client went away: nothing to answer
                    }
                });
            }
        }

        public void Dispose() => _listener.Close();
    }
}
