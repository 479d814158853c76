using System.CommandLine;
using Llamero.Chat;
using Llamero.Cli.Inference;
using Llamero.Generation;

namespace Llamero.Cli.Commands;

/// <summary>
/// <c>llamero run</c>: llama.cpp's <c>main</c> command line (the model card's, as written). Streams the prompt and
/// its continuation to stdout and the timings to stderr; <c>-i</c>, <c>-ins</c> or <c>-cnv</c> switch to chat.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var args = new GenerationArguments();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text (\\n and other escapes are processed unless --no-escape)." };
        var file = new Option<string?>("--file", "-f") { Description = "Read the prompt from this file." };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Chat after the prompt (same as llamero chat)." };
        var instruct = new Option<bool>("-ins", "--instruct") { Description = "Chat mode (llama.cpp's old instruct flag)." };
        var conversation = new Option<bool>("-cnv", "--conversation") { Description = "Chat mode (llama.cpp's conversation flag)." };
        var noDisplayPrompt = new Option<bool>("--no-display-prompt") { Description = "Do not echo the prompt." };
        var log = new Option<string?>("--log") { Description = "In chat mode, append {\"prompt\", \"answer\"} per turn to this JSON-lines file." };
        var command = new Command("run", "Generate text from a prompt with a GGUF model (llama.cpp main's options).");
        args.AddTo(command);
        foreach (var option in new Option[] { prompt, file, interactive, instruct, conversation, noDisplayPrompt, log })
            command.Options.Add(option);

        command.SetAction(result => CommandErrors.Run(result.InvocationConfiguration.Error, () =>
        {
            var text = ReadPrompt(result.GetValue(prompt), result.GetValue(file));
            if (result.GetValue(interactive) || result.GetValue(instruct) || result.GetValue(conversation))
                return ChatCommand.Start(result, args, text, result.GetValue(log));
            return Generate(result, args, text is null ? "" : args.Unescape(result)(text), !result.GetValue(noDisplayPrompt));
        }));
        return command;
    }

    private static string? ReadPrompt(string? prompt, string? file)
    {
        if (prompt is not null && file is not null)
            throw new ArgumentException("give the prompt with -p or -f, not both");
        if (file is null)
            return prompt;
        if (!File.Exists(file))
            throw new FileNotFoundException($"prompt file not found: {file}", file);
        return File.ReadAllText(file);
    }

    private static int Generate(ParseResult result, GenerationArguments args, string prompt, bool echo)
    {
        var output = result.InvocationConfiguration.Output;
        var error = result.InvocationConfiguration.Error;
        var options = args.Read(result);
        using var llm = ModelSetup.Load(result, args);
        options = ModelSetup.WithSeed(options, error);
        if (result.GetValue(args.System) is { } system)
        {
            var unescape = args.Unescape(result);
            prompt = llm.ChatTemplate.Render([ChatMessage.System(unescape(system)), ChatMessage.User(prompt)], addAssistantPrefix: true);
            options = options with { StopStrings = [.. options.StopStrings, .. llm.ChatTemplate.StopStrings] };
        }
        ModelSetup.PrintSettings(llm, options, error);

        var color = result.GetValue(args.Color);
        if (echo)
        {
            output.Write(color ? Ansi.Prompt + prompt + Ansi.Reset : prompt);
            output.Flush();
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var last = Stream(llm, prompt, options, output, cancel.Token).GetAwaiter().GetResult();
            output.WriteLine();
            if (last.FinishReason == FinishReason.EndOfGeneration)
                error.WriteLine("[end of text]");
            else if (last.FinishReason == FinishReason.ContextFull)
                error.WriteLine("[context full and context shift is disabled: stopped]");
            error.WriteLine();
            error.Write(last.Timings!.Format(llm.LoadTime));
            return 0;
        }
        catch (OperationCanceledException)
        {
            output.WriteLine();
            error.WriteLine("[interrupted]");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<GeneratedToken> Stream(Llm llm, string prompt, GenerationOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        GeneratedToken? last = null;
        await foreach (var token in llm.GenerateTokensAsync(prompt, options, cancellationToken))
        {
            output.Write(token.Text);
            output.Flush();
            last = token;
        }
        return last!;
    }
}
