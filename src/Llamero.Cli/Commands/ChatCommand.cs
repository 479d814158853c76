using System.CommandLine;
using Llamero.Cli.Inference;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero chat</c>: an interactive conversation on standard input/output.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var args = new GenerationArguments();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "First message, answered before reading standard input." };
        var log = new Option<string?>("--log") { Description = "Append {\"prompt\", \"answer\"} per turn to this JSON-lines file." };
        var command = new Command("chat", "Chat with a model: chat template applied, earlier turns kept in the KV cache. " + ChatLoop.Help);
        args.AddTo(command);
        command.Options.Add(prompt);
        command.Options.Add(log);
        command.SetAction(result => CommandErrors.Run(result.InvocationConfiguration.Error,
            () => Start(result, args, result.GetValue(prompt), result.GetValue(log))));
        return command;
    }

    /// <summary>Runs the chat (shared with <c>run -i/-ins/-cnv</c>).</summary>
    public static int Start(ParseResult result, GenerationArguments args, string? firstMessage, string? logPath)
    {
        var output = result.InvocationConfiguration.Output;
        var error = result.InvocationConfiguration.Error;
        var options = args.Read(result);
        var conversationLog = ConversationLog.Open(logPath);
        var unescape = args.Unescape(result);
        using var llm = ModelSetup.Load(result, args);
        options = ModelSetup.WithSeed(options, error);
        ModelSetup.PrintSettings(llm, options, error);
        var system = result.GetValue(args.System);
        using var chat = llm.StartChat(system is null ? null : unescape(system));
        var loop = new ChatLoop(chat, options, output, error, Console.In, conversationLog, result.GetValue(args.Color));
        return loop.Run(firstMessage is null ? null : unescape(firstMessage));
    }
}
