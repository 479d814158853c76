using System.CommandLine;
using System.Globalization;
using Llamero.Generation;
using Llamero.Sampling;

namespace Llamero.Cli.Inference;

/// <summary>
/// The options <c>run</c> and <c>chat</c> share, spelled as llama.cpp's <c>main</c> spells them (single-dash long
/// names such as <c>-ngl</c> are plain aliases: System.CommandLine matches a whole token against the aliases before
/// it tries to unbundle short flags, so they need no pre-processing).
/// </summary>
internal sealed class GenerationArguments
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "GGUF model file (default: models/stories260K.gguf beside the tool or in the repository)." };
    public Option<int> Context { get; } = new("--ctx-size", "-c") { Description = "Context size in tokens (default 0: the model's, at most 4096)." };
    public Option<int> Predict { get; } = new("--n-predict", "-n", "--predict") { Description = "Tokens to generate; -1 (default) runs until end of text (or a full context with --no-context-shift).", DefaultValueFactory = _ => -1 };
    public Option<float> Temperature { get; } = new("--temp", "--temperature") { Description = "Temperature; 0 is greedy (default 0.8).", DefaultValueFactory = _ => 0.8f };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Top-k sampling, 0 disables (default 40).", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Top-p (nucleus) sampling in (0, 1], 1 disables (default 0.95).", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "Min-p sampling, 0 disables (default 0.05).", DefaultValueFactory = _ => 0.05f };
    public Option<float> Typical { get; } = new("--typical") { Description = "Locally typical sampling p, 1 disables (default 1).", DefaultValueFactory = _ => 1f };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty", "--repeat_penalty") { Description = "Penalty for repeated tokens, 1 disables (default 1).", DefaultValueFactory = _ => 1f };
    public Option<int> RepeatLastN { get; } = new("--repeat-last-n", "--repeat_last_n") { Description = "Tokens the penalties look back over; 0 disables, -1 the whole context (default 64).", DefaultValueFactory = _ => 64 };
    public Option<float> FrequencyPenalty { get; } = new("--frequency-penalty") { Description = "Subtracted per earlier occurrence (default 0)." };
    public Option<float> PresencePenalty { get; } = new("--presence-penalty") { Description = "Subtracted once per token present (default 0)." };
    public Option<int> Mirostat { get; } = new("--mirostat") { Description = "0 off (default), 2 Mirostat 2.0." };
    public Option<float> MirostatEta { get; } = new("--mirostat-lr") { Description = "Mirostat learning rate eta (default 0.1).", DefaultValueFactory = _ => 0.1f };
    public Option<float> MirostatTau { get; } = new("--mirostat-ent") { Description = "Mirostat target entropy tau (default 5).", DefaultValueFactory = _ => 5f };
    public Option<string[]> LogitBias { get; } = new("--logit-bias", "-l") { Description = "Token bias as ID+BIAS or ID-BIAS (e.g. 15043+1); repeatable.", AllowMultipleArgumentsPerToken = false };
    public Option<long> Seed { get; } = new("--seed", "-s") { Description = "Random seed; -1 (default) picks one and prints it.", DefaultValueFactory = _ => -1 };
    public Option<int> Threads { get; } = new("--threads", "-t") { Description = "Threads for the matrix kernels (default: every core)." };
    public Option<int> GpuLayers { get; } = new("-ngl", "--n-gpu-layers", "--gpu-layers") { Description = "Accepted for llama.cpp compatibility: every layer runs on the CPU." };
    public Option<bool> Color { get; } = new("--color") { Description = "Colour the prompt and the user's input." };
    public Option<string?> System { get; } = new("--system", "-sys", "--system-prompt") { Description = "System message (chat template applied)." };
    public Option<int> Keep { get; } = new("--keep") { Description = "Prompt tokens kept when the context shifts (after BOS); -1 all (default 0)." };
    public Option<bool> NoContextShift { get; } = new("--no-context-shift") { Description = "Stop when the context is full instead of dropping old tokens." };
    public Option<string?> ChatTemplate { get; } = new("--chat-template") { Description = "Chat template name (default: the model's, else plain completion)." };
    public Option<int> BatchSize { get; } = new("--batch-size", "-b") { Description = "Prompt tokens per batch (default 512).", DefaultValueFactory = _ => 512 };
    public Option<string[]> ReversePrompt { get; } = new("--reverse-prompt", "-r") { Description = "Stop when this text appears; repeatable." };
    public Option<bool> IgnoreEos { get; } = new("--ignore-eos") { Description = "Never stop at end of text." };
    public Option<bool> NoEscape { get; } = new("--no-escape") { Description = "Take \\n, \\t, ... in the prompt literally (by default they are escapes, as in llama.cpp)." };
    public Option<bool> Escape { get; } = new("--escape", "-e") { Description = "Process escapes in the prompt (the default)." };

    public CacheTypeArguments CacheTypes { get; } = new();

    public GrammarArguments Grammar { get; } = new();

    public RepackArgument Repack { get; } = new();

    public IEnumerable<Option> All() =>
    [
        .. Grammar.All(),
        Model, Context, Predict, Temperature, TopK, TopP, MinP, Typical, RepeatPenalty, RepeatLastN, FrequencyPenalty,
        PresencePenalty, Mirostat, MirostatEta, MirostatTau, LogitBias, Seed, Threads, GpuLayers, Color, System, Keep,
        NoContextShift, ChatTemplate, BatchSize, ReversePrompt, IgnoreEos, NoEscape, Escape, .. CacheTypes.All(), Repack.NoRepack,
    ];

    public void AddTo(Command command)
    {
        foreach (var option in All())
            command.Options.Add(option);
    }

    /// <summary>Sampling and generation options from the command line; throws <see cref="ArgumentException"/> on bad values.</summary>
    public GenerationOptions Read(ParseResult result)
    {
        var seed = result.GetValue(Seed);
        if (seed < -1 || seed > uint.MaxValue)
            throw new ArgumentException($"seed must be -1 (random) or in 0..{uint.MaxValue}, got {seed}");
        var sampling = new SamplingOptions
        {
            Temperature = result.GetValue(Temperature),
            TopK = result.GetValue(TopK),
            TopP = result.GetValue(TopP),
            MinP = result.GetValue(MinP),
            TypicalP = result.GetValue(Typical),
            RepeatPenalty = result.GetValue(RepeatPenalty),
            RepeatLastN = result.GetValue(RepeatLastN),
            FrequencyPenalty = result.GetValue(FrequencyPenalty),
            PresencePenalty = result.GetValue(PresencePenalty),
            Mirostat = result.GetValue(Mirostat),
            MirostatEta = result.GetValue(MirostatEta),
            MirostatTau = result.GetValue(MirostatTau),
            Seed = seed is -1 or uint.MaxValue ? null : (uint)seed,
            LogitBias = ParseLogitBias(result.GetValue(LogitBias) ?? []),
            Grammar = Grammar.Read(result),
        };
        var options = new GenerationOptions
        {
            Sampling = sampling,
            MaxTokens = result.GetValue(Predict) is var n && n < -1 ? throw new ArgumentException($"-n must be -1 (no limit) or at least 0, got {n}") : n,
            Keep = result.GetValue(Keep),
            ContextShift = !result.GetValue(NoContextShift),
            BatchSize = result.GetValue(BatchSize),
            StopStrings = [.. (result.GetValue(ReversePrompt) ?? []).Select(Unescape(result))],
            IgnoreEos = result.GetValue(IgnoreEos),
        };
        options.Validate();
        if (result.GetValue(ChatTemplate) is { } template)
            CompletionTemplate.Resolve(template, null); // an unknown name fails here, before the model loads
        if (result.GetValue(Context) < 0)
            throw new ArgumentException($"context size must be 0 (the model's) or positive, got {result.GetValue(Context)}");
        return options;
    }

    /// <summary>The prompt escape processing llama.cpp applies by default (unless --no-escape).</summary>
    public Func<string, string> Unescape(ParseResult result) =>
        result.GetValue(NoEscape) ? static s => s : PromptEscapes.Process;

    // llama.cpp spells an infinite bias "inf" ("-inf" bans a token).
    private static bool TryParseBias(string text, out float bias)
    {
        var magnitude = text[1..];
        if (magnitude.Equals("inf", StringComparison.OrdinalIgnoreCase) || magnitude.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            bias = text[0] == '-' ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out bias);
    }

    private static Dictionary<int, float>? ParseLogitBias(string[] values)
    {
        if (values.Length == 0)
            return null;
        var biases = new Dictionary<int, float>();
        foreach (var value in values)
        {
            var sign = value.IndexOfAny(['+', '-'], 1);
            if (sign < 0
                || !int.TryParse(value.AsSpan(0, sign), NumberStyles.None, CultureInfo.InvariantCulture, out var token)
                || !TryParseBias(value[sign..], out var bias))
            {
                throw new ArgumentException($"--logit-bias expects TOKEN_ID+BIAS or TOKEN_ID-BIAS (e.g. 15043+1 or 2-inf), got '{value}'");
            }
            biases[token] = bias;
        }
        return biases;
    }
}
