namespace Llamero.Chat;

/// <summary>The built-in chat templates, by llama.cpp's names, and recognition of GGUF Jinja templates.</summary>
public static partial class ChatTemplates
{
    private static readonly Dictionary<string, ChatTemplate> ByName = BuildRegistry();

    /// <summary>Every accepted name (including the alias <c>orca-vicuna</c> for <c>vicuna-orca</c>), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = ByName.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The template called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static ChatTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name, out var template)
            ? template
            : throw new ArgumentException($"Unknown chat template '{name}'. Valid names: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>The template called <paramref name="name"/>, or false.</summary>
    public static bool TryGet(string name, out ChatTemplate template) => ByName.TryGetValue(name, out template!);

    /// <summary>
    /// Recognises a Jinja chat template (a GGUF <c>tokenizer.chat_template</c>) by its distinctive substrings, in
    /// the order llama.cpp's <c>llm_chat_detect_template</c> tests them; a template name is accepted as well.
    /// Returns null for a template this engine does not render.
    /// </summary>
    public static ChatTemplate? Detect(string? jinja)
    {
        if (string.IsNullOrEmpty(jinja))
            return null;
        if (ByName.TryGetValue(jinja, out var named))
            return named;
        var name = DetectName(jinja);
        return name is not null && ByName.TryGetValue(name, out var template) ? template : null;
    }

    // llama.cpp's detection order; families Llamero does not render come back as null.
    private static string? DetectName(string t)
    {
        bool Has(string s) => t.Contains(s, StringComparison.Ordinal);

        if (Has("<|im_start|>"))
            return Has("<|im_sep|>") || Has("<end_of_utterance>") ? null : "chatml"; // phi4 / smolvlm are not ChatML
        if (t.StartsWith("mistral", StringComparison.Ordinal) || Has("[INST]"))
        {
            if (Has("[SYSTEM_PROMPT]"))
                return "mistral-v7";
            if (Has("' [INST] ' + system_message") || Has("[AVAILABLE_TOOLS]"))
                return Has(" [INST]") ? "mistral-v1" : Has("\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
            if (Has("content.strip()"))
                return "llama2-sys-strip";
            if (Has("bos_token + '[INST]"))
                return "llama2-sys-bos";
            return Has("<<SYS>>") ? "llama2-sys" : "llama2";
        }
        if (Has("<|assistant|>") && Has("<|end|>"))
            return "phi3";
        if (Has("[gMASK]<sop>"))
            return null; // chatglm4
        if (Has("<|assistant|>") && Has("<|user|>"))
            return null; // falcon3 / glmedge
        if (Has("<|{{ item['role'] }}|>") && Has("<|begin_of_image|>"))
            return null; // glmedge
        if (Has("<|user|>") && Has("<|endoftext|>"))
            return "zephyr";
        if (Has("bos_token + message['role']"))
            return null; // monarch
        if (Has("<start_of_turn>"))
            return "gemma";
        if (Has("'\\n\\nAssistant: ' + eos_token") || Has("GPT4 Correct "))
            return null; // orion, openchat
        if (Has("USER: ") && Has("ASSISTANT: "))
            return Has("SYSTEM: ") ? "vicuna-orca" : "vicuna";
        if (Has("### Instruction:") && Has("<|EOT|>"))
            return "deepseek";
        if (Has("<|START_OF_TURN_TOKEN|>") && Has("<|USER_TOKEN|>"))
            return null; // command-r
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>"))
            return "llama3";
        return null;
    }

    private static Dictionary<string, ChatTemplate> BuildRegistry()
    {
        var map = new Dictionary<string, ChatTemplate>(StringComparer.OrdinalIgnoreCase);
        foreach (var template in BuiltInTemplates.All())
            map.Add(template.Name, template);
        map.Add("orca-vicuna", map["vicuna-orca"]); // the name Synthia's model card community uses
        return map;
    }
}
