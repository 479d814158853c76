namespace Llamero.Hub;

/// <summary>What went wrong talking to the Hugging Face Hub (or a mirror given by <c>HF_ENDPOINT</c>).</summary>
public enum HubErrorKind
{
    /// <summary>The repository, the revision or the file does not exist (HTTP 404).</summary>
    NotFound,
    /// <summary>The hub refused access (HTTP 401/403): a gated or private repo that needs <c>HF_TOKEN</c>.</summary>
    Unauthorized,
    /// <summary>An <c>--include</c> pattern matched no file of the repo.</summary>
    NoMatch,
    /// <summary>The downloaded bytes do not hash to what the hub reports (sha256 of the LFS object or git blob id).</summary>
    IntegrityMismatch,
    /// <summary>The connection failed and retries were exhausted; the partial file is kept for a later resume.</summary>
    Network,
    /// <summary>The server answered something the protocol does not allow (bad listing, wrong Content-Range, bad name).</summary>
    Protocol,
}

/// <summary>A failure of a hub operation, with a one-line message fit for the command line.</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubException(HubErrorKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    /// <summary>The category of failure.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>HTTP status code, when the failure came from an HTTP answer.</summary>
    public int? StatusCode { get; init; }
}
