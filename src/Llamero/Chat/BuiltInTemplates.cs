using System.Text;

namespace Llamero.Chat;

/// <summary>
/// The prompt formats, each rendering what llama.cpp's <c>llm_chat_apply_template</c> renders for the same name
/// (alpaca, which llama.cpp lacks, follows the Stanford Alpaca prompt).
/// </summary>
internal static class BuiltInTemplates
{
    public static IEnumerable<ChatTemplate> All()
    {
        yield return new("chatml", ["<|im_end|>", "<|im_start|>"], ChatMl);
        yield return new("llama2", ["</s>", "[INST]"], (sb, m, _) => Llama2(sb, m, systemBlock: false, bosInHistory: false, strip: false));
        yield return new("llama2-sys", ["</s>", "[INST]"], (sb, m, _) => Llama2(sb, m, systemBlock: true, bosInHistory: false, strip: false));
        yield return new("llama2-sys-bos", ["</s>", "[INST]"], (sb, m, _) => Llama2(sb, m, systemBlock: true, bosInHistory: true, strip: false));
        yield return new("llama2-sys-strip", ["</s>", "[INST]"], (sb, m, _) => Llama2(sb, m, systemBlock: true, bosInHistory: false, strip: true));
        yield return new("mistral-v1", ["</s>", "[INST]"], (sb, m, _) => Mistral(sb, m, leading: " ", trailing: " ", trimAssistant: false));
        yield return new("mistral-v3", ["</s>", "[INST]"], (sb, m, _) => Mistral(sb, m, leading: "", trailing: " ", trimAssistant: true));
        yield return new("mistral-v3-tekken", ["</s>", "[INST]"], (sb, m, _) => Mistral(sb, m, leading: "", trailing: "", trimAssistant: false));
        yield return new("mistral-v7", ["</s>", "[INST]"], (sb, m, _) => MistralV7(sb, m, space: " "));
        yield return new("mistral-v7-tekken", ["</s>", "[INST]"], (sb, m, _) => MistralV7(sb, m, space: ""));
        yield return new("phi3", ["<|end|>", "<|user|>"], (sb, m, add) => RoleTags(sb, m, add, "<|end|>\n"));
        yield return new("zephyr", ["<|endoftext|>", "<|user|>", "</s>"], (sb, m, add) => RoleTags(sb, m, add, "<|endoftext|>\n"));
        yield return new("gemma", ["<end_of_turn>", "<start_of_turn>"], Gemma);
        yield return new("vicuna", ["USER:", "</s>"], (sb, m, add) => Vicuna(sb, m, add, orca: false));
        yield return new("vicuna-orca", ["USER:", "</s>"], (sb, m, add) => Vicuna(sb, m, add, orca: true));
        yield return new("deepseek", ["<|EOT|>", "### Instruction:"], DeepSeek);
        yield return new("llama3", ["<|eot_id|>", "<|start_header_id|>"], Llama3);
        yield return new("alpaca", ["### Instruction:", "</s>"], Alpaca);
    }

    // llama.cpp's trim(): ASCII isspace at both ends.
    private static string Trim(string s) => s.Trim(' ', '\t', '\n', '\v', '\f', '\r');

    private static void ChatMl(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        foreach (var m in messages)
            sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        if (addAssistant)
            sb.Append("<|im_start|>assistant\n");
    }

    // [INST] turns; the first [INST] has no BOS (the tokenizer adds it). Never adds an assistant prefix.
    private static void Llama2(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool systemBlock, bool bosInHistory, bool strip)
    {
        var insideTurn = true;
        sb.Append("[INST] ");
        foreach (var m in messages)
        {
            var content = strip ? Trim(m.Content) : m.Content;
            if (!insideTurn)
            {
                insideTurn = true;
                sb.Append(bosInHistory ? "<s>[INST] " : "[INST] ");
            }
            switch (m.Role)
            {
                case "system" when systemBlock:
                    sb.Append("<<SYS>>\n").Append(content).Append("\n<</SYS>>\n\n");
                    break;
                case "system":
                    sb.Append(content).Append('\n');
                    break;
                case "user":
                    sb.Append(content).Append(" [/INST]");
                    break;
                default:
                    sb.Append(content).Append("</s>");
                    insideTurn = false;
                    break;
            }
        }
    }

    private static void Mistral(StringBuilder sb, IReadOnlyList<ChatMessage> messages, string leading, string trailing, bool trimAssistant)
    {
        var insideTurn = false;
        foreach (var m in messages)
        {
            if (!insideTurn)
            {
                sb.Append(leading).Append("[INST]").Append(trailing);
                insideTurn = true;
            }
            switch (m.Role)
            {
                case "system":
                    sb.Append(m.Content).Append("\n\n");
                    break;
                case "user":
                    sb.Append(m.Content).Append(leading).Append("[/INST]");
                    break;
                default:
                    sb.Append(trailing).Append(trimAssistant ? Trim(m.Content) : m.Content).Append("</s>");
                    insideTurn = false;
                    break;
            }
        }
    }

    private static void MistralV7(StringBuilder sb, IReadOnlyList<ChatMessage> messages, string space)
    {
        foreach (var m in messages)
        {
            _ = m.Role switch
            {
                "system" => sb.Append("[SYSTEM_PROMPT]").Append(space).Append(m.Content).Append("[/SYSTEM_PROMPT]"),
                "user" => sb.Append("[INST]").Append(space).Append(m.Content).Append("[/INST]"),
                _ => sb.Append(space).Append(m.Content).Append("</s>"),
            };
        }
    }

    // <|role|>\ncontent{end} per message (Phi-3, Zephyr).
    private static void RoleTags(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant, string end)
    {
        foreach (var m in messages)
            sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append(end);
        if (addAssistant)
            sb.Append("<|assistant|>\n");
    }

    // Gemma has no system role: the system text is merged into the next user turn; "assistant" is "model".
    private static void Gemma(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        var system = "";
        foreach (var m in messages)
        {
            if (m.Role == "system")
            {
                system += Trim(m.Content);
                continue;
            }
            var role = m.Role == "assistant" ? "model" : m.Role;
            sb.Append("<start_of_turn>").Append(role).Append('\n');
            if (system.Length > 0 && role != "model")
            {
                sb.Append(system).Append("\n\n");
                system = "";
            }
            sb.Append(Trim(m.Content)).Append("<end_of_turn>\n");
        }
        if (addAssistant)
            sb.Append("<start_of_turn>model\n");
    }

    // Vicuna 1.1; the Orca variant (Synthia's format) writes the system text after "SYSTEM: ".
    private static void Vicuna(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant, bool orca)
    {
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "system" when orca:
                    sb.Append("SYSTEM: ").Append(m.Content).Append('\n');
                    break;
                case "system":
                    sb.Append(m.Content).Append("\n\n");
                    break;
                case "user":
                    sb.Append("USER: ").Append(m.Content).Append('\n');
                    break;
                case "assistant":
                    sb.Append("ASSISTANT: ").Append(m.Content).Append("</s>\n");
                    break;
            }
        }
        if (addAssistant)
            sb.Append("ASSISTANT:");
    }

    private static void DeepSeek(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        foreach (var m in messages)
        {
            _ = m.Role switch
            {
                "system" => sb.Append(m.Content),
                "user" => sb.Append("### Instruction:\n").Append(m.Content).Append('\n'),
                "assistant" => sb.Append("### Response:\n").Append(m.Content).Append("\n<|EOT|>\n"),
                _ => sb,
            };
        }
        if (addAssistant)
            sb.Append("### Response:\n");
    }

    private static void Llama3(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        foreach (var m in messages)
        {
            sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n")
                .Append(Trim(m.Content)).Append("<|eot_id|>");
        }
        if (addAssistant)
            sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    // Stanford Alpaca: system text as the preamble, then ### Instruction / ### Response blocks.
    private static void Alpaca(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        foreach (var m in messages)
        {
            _ = m.Role switch
            {
                "system" => sb.Append(m.Content).Append("\n\n"),
                "user" => sb.Append("### Instruction:\n").Append(m.Content).Append("\n\n"),
                "assistant" => sb.Append("### Response:\n").Append(m.Content).Append("</s>\n\n"),
                _ => sb,
            };
        }
        if (addAssistant)
            sb.Append("### Response:\n");
    }
}
