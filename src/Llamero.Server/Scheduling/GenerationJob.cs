using System.Threading.Channels;
using Llamero.Generation;

namespace Llamero.Server.Scheduling;

/// <summary>What one request asks the scheduler to generate.</summary>
public sealed record GenerationRequest
{
    /// <summary>The full prompt, already tokenized (BOS included when the model wants it).</summary>
    public required int[] PromptTokens { get; init; }

    /// <summary>Sampling, max tokens, stop strings and logprobs, as the generator takes them.</summary>
    public required GenerationOptions Options { get; init; }
}

/// <summary>Text released by one generated token, with its log probabilities when asked for.</summary>
public sealed record GeneratedPiece(string Text, TokenLogprob? Logprob);

/// <summary>The chosen token's text and log probability, and the best alternatives.</summary>
public sealed record TokenLogprob(string Token, float Logprob, IReadOnlyList<(string Token, float Logprob)> Top);

/// <summary>How a generation ended: <c>stop</c> or <c>length</c>, and the token counts.</summary>
public sealed record GenerationSummary(string FinishReason, int PromptTokens, int CachedPromptTokens, int CompletionTokens);

/// <summary>
/// A request in flight: the scheduler writes pieces into <see cref="Pieces"/> and completes <see cref="Completion"/>;
/// the HTTP handler reads them. Cancelling <see cref="Cancellation"/> (the client went away) frees the slot.
/// </summary>
public sealed class GenerationJob
{
    private readonly Channel<GeneratedPiece> _pieces =
        Channel.CreateUnbounded<GeneratedPiece>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<GenerationSummary> _completion =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal GenerationJob(GenerationRequest request, CancellationToken cancellation)
    {
        Request = request;
        Cancellation = cancellation;
    }

    /// <summary>What was asked.</summary>
    public GenerationRequest Request { get; }

    /// <summary>Cancelled when the client disconnects.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Generated text as it comes; completes when the generation ends.</summary>
    public ChannelReader<GeneratedPiece> Pieces => _pieces.Reader;

    /// <summary>The outcome, once the last piece is written; faults with the error that stopped it.</summary>
    public Task<GenerationSummary> Completion => _completion.Task;

    internal void Emit(GeneratedPiece piece) => _pieces.Writer.TryWrite(piece);

    internal void Finish(GenerationSummary summary)
    {
        _pieces.Writer.TryComplete();
        _completion.TrySetResult(summary);
    }

    internal void Fail(Exception error)
    {
        _pieces.Writer.TryComplete(error);
        _completion.TrySetException(error);
    }

    internal void Cancel()
    {
        _pieces.Writer.TryComplete(new OperationCanceledException(Cancellation));
        _completion.TrySetCanceled(Cancellation);
    }
}
