using Llamero.Sampling.Grammars;
using Llamero.Tokenization;

namespace Llamero.Sampling;

/// <summary>
/// llama.cpp's grammar sampler: drops every candidate whose text cannot continue the grammar (end-of-generation
/// tokens only where the grammar can end), and advances the grammar by each accepted token. Token bytes are
/// decoded to code points across token boundaries, so a token holding part of a character is judged by the
/// characters it can still become. Masking the whole vocabulary walks it as a prefix tree; a short candidate list
/// is checked token by token. <see cref="SamplerChain"/> first samples without it and only masks when the pick
/// is refused (llama.cpp's <c>common_sampler_sample</c>).
/// </summary>
public sealed class GrammarSampler : ISampler
{
    // Below this many candidates, checking each token alone beats walking the whole vocabulary.
    private const int PerTokenLimit = 512;

    private readonly GrammarVocabulary _vocab;
    private readonly bool[] _allowed;
    private GrammarMatcher _matcher;

    /// <summary>A sampler holding <paramref name="tokenizer"/>'s tokens to <paramref name="grammar"/>.</summary>
    public GrammarSampler(Grammar grammar, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(tokenizer);
        Grammar = grammar;
        _vocab = GrammarVocabulary.For(tokenizer);
        _allowed = new bool[_vocab.Size];
        _matcher = grammar.CreateMatcher();
    }

    /// <summary>The grammar.</summary>
    public Grammar Grammar { get; }

    /// <inheritdoc/>
    public string Name => "grammar";

    /// <summary>Whether the accepted tokens form a whole sentence of the grammar.</summary>
    public bool IsComplete => _matcher.IsComplete;

    /// <summary>Drops the candidates the grammar refuses; throws when it refuses them all.</summary>
    public void Apply(TokenCandidates candidates)
    {
        var items = candidates.Items;
        if (items.Length > PerTokenLimit)
            TokenMask.Compute(_matcher.Space, _vocab, _matcher.Stacks, _matcher.Partial, _allowed);
        var kept = 0;
        for (var i = 0; i < items.Length; i++)
        {
            var id = items[i].Id;
            var ok = items.Length > PerTokenLimit ? (uint)id < (uint)_allowed.Length && _allowed[id] : IsAllowed(id);
            if (ok)
                items[kept++] = items[i];
        }
        if (kept == 0)
            throw new Grammars.GrammarGenerationException("The grammar allows none of the candidate tokens (is the end-of-generation token banned while the grammar is complete?).");
        candidates.Truncate(kept);
        candidates.Selected = -1;
    }

    /// <summary>Whether <paramref name="token"/> may come next.</summary>
    public bool IsAllowed(int token)
    {
        if ((uint)token >= (uint)_vocab.Size)
            return false;
        if (_vocab.EndOfGeneration[token])
            return _matcher.IsComplete;
        var piece = _vocab.Pieces[token];
        return piece.Length > 0 && piece[0] != 0 && _matcher.CanAcceptUtf8(piece);
    }

    /// <summary>Advances the grammar past <paramref name="token"/>; throws if the grammar does not allow it.</summary>
    public void Accept(int token)
    {
        if (!IsAllowed(token))
            throw new InvalidOperationException($"Token {token} does not continue the grammar.");
        if (!_vocab.EndOfGeneration[token])
            _matcher.AcceptUtf8(_vocab.Pieces[token]);
    }

    /// <summary>Back to the start of the grammar.</summary>
    public void Reset() => _matcher = Grammar.CreateMatcher();
}
