using System.Text;
using Llamero.Generation;

namespace Llamero.Cli.Inference;

/// <summary>
/// The interactive conversation behind <c>llamero chat</c> and <c>llamero run -i/-ins/-cnv</c>: reads lines from
/// standard input, streams answers, keeps earlier turns in the KV cache. Ctrl-C stops the current answer and
/// returns to the prompt; end of input or <c>/exit</c> leaves. A trailing backslash continues a line.
/// </summary>
internal sealed class ChatLoop(ChatSession chat, GenerationOptions options, TextWriter output, TextWriter error, TextReader input,
    ConversationLog? log, bool color)
{
    private CancellationTokenSource? _answer;

    public const string Help = "commands: /reset (forget the conversation), /save FILE, /load FILE, /exit; Ctrl-C stops an answer, Ctrl-D (end of input) leaves";

    /// <summary>Runs until the input ends; returns 1 when any turn failed, else 0.</summary>
    public int Run(string? firstMessage)
    {
        var failed = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            var answer = _answer;
            if (answer is null)
                return; // idle: Ctrl-C leaves as usual
            e.Cancel = true;
            answer.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            error.WriteLine($"== chat mode, template {chat.Template.Name}, context {chat.ContextSize} tokens; {Help} ==");
            if (!string.IsNullOrEmpty(firstMessage))
                failed |= !Turn(firstMessage);
            while (true)
            {
                output.Write(color ? $"\n> {Ansi.UserInput}" : "\n> ");
                output.Flush();
                var line = ReadMessage();
                if (color)
                    output.Write(Ansi.Reset);
                if (line is null)
                    break;
                if (line.Length == 0)
                    continue;
                if (line.StartsWith('/') && Command(line, ref failed) is var handled && handled is not null)
                {
                    if (handled == false)
                        break;
                    continue;
                }
                failed |= !Turn(line);
            }
            output.WriteLine();
            return failed ? 1 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    // true: handled, keep going; false: leave; null: not a command (sent as a message).
    private bool? Command(string line, ref bool failed)
    {
        var space = line.IndexOf(' ');
        var name = space < 0 ? line : line[..space];
        var argument = space < 0 ? "" : line[(space + 1)..].Trim();
        try
        {
            switch (name)
            {
                case "/exit" or "/quit" or "/bye":
                    return false;
                case "/reset":
                    chat.Reset();
                    error.WriteLine("[conversation reset]");
                    return true;
                case "/save":
                    chat.Save(RequirePath(argument, name));
                    error.WriteLine($"[conversation saved to {argument}]");
                    return true;
                case "/load":
                    chat.Load(RequirePath(argument, name));
                    error.WriteLine($"[conversation loaded from {argument}: {chat.Messages.Count} messages]");
                    return true;
                case "/help" or "/?":
                    error.WriteLine(Help);
                    return true;
                default:
                    return null;
            }
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            failed = true;
            return true;
        }
    }

    private static string RequirePath(string argument, string command) =>
        argument.Length > 0 ? argument : throw new ArgumentException($"{command} needs a file name");

    private string? ReadMessage()
    {
        var text = new StringBuilder();
        while (input.ReadLine() is { } line)
        {
            if (line.EndsWith('\\'))
            {
                text.Append(line, 0, line.Length - 1).Append('\n');
                continue;
            }
            return text.Append(line).ToString();
        }
        return text.Length > 0 ? text.ToString() : null;
    }

    // One exchange; false when the input was rejected (nothing logged then).
    private bool Turn(string message)
    {
        var answer = new StringBuilder();
        using var cancel = new CancellationTokenSource();
        _answer = cancel;
        try
        {
            RunTurn(message, answer, cancel.Token).GetAwaiter().GetResult();
            output.WriteLine();
            if (chat.LastTimings is { } t)
                error.WriteLine($"[{t.PromptTokens} prompt tokens at {t.PromptTokensPerSecond:F1} t/s, {t.SampledTokens} generated at {t.EvalTokensPerSecond:F1} t/s, {chat.CachedTokens}/{chat.ContextSize} in context]");
        }
        catch (OperationCanceledException)
        {
            output.WriteLine();
            error.WriteLine("[answer stopped]");
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            return false;
        }
        finally
        {
            _answer = null;
        }
        log?.Append(message, answer.ToString());
        return true;
    }

    private async Task RunTurn(string message, StringBuilder answer, CancellationToken cancellationToken)
    {
        await foreach (var token in chat.SendTokensAsync(message, options, cancellationToken))
        {
            answer.Append(token.Text);
            output.Write(token.Text);
            output.Flush();
        }
    }
}
