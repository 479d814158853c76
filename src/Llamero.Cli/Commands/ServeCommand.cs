using System.CommandLine;
using Llamero.Server;
using Llamero.Server.Engine;
using Llamero.Server.Hosting;

namespace Llamero.Cli.Commands;

/// <summary>
/// <c>llamero serve [-m FILE] [--host H] [--port P] [--api-key KEY | --api-key-file F] [--parallel N] [-c CTX]
/// [--chat-template NAME]</c>: the OpenAI-compatible server and the chat page, until Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model file (default: models/stories260K.gguf beside the tool or in the repository)." };
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one).", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on the API." };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "Read the API key from the first line of a file." };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Slots: requests generated at the same time.", DefaultValueFactory = _ => 4 };
        var context = new Option<int?>("--ctx-size", "-c") { Description = "Context tokens per slot (default: the model's, at most 4096)." };
        var template = new Option<string?>("--chat-template") { Description = "Chat template name (default: the model's own, else plain completion)." };
        var queue = new Option<int>("--queue") { Description = "Requests that may wait for a slot before new ones get 503.", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Most tokens one decode step evaluates for all slots together (prompt chunks and generated tokens).", DefaultValueFactory = _ => 512 };
        var cacheTypes = new Inference.CacheTypeArguments();
        var repack = new Inference.RepackArgument();
        var command = new Command("serve", "Serve a model over an OpenAI-compatible HTTP API, with a chat page at /.")
        {
            model, host, port, apiKey, apiKeyFile, parallel, context, template, queue, batch, cacheTypes.Keys, cacheTypes.Values, repack.NoRepack,
        };
        command.SetAction(async (parseResult, cancellation) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var options = new ServerOptions
                {
                    Host = parseResult.GetValue(host)!,
                    Port = Check(parseResult.GetValue(port), 0, 65535, "--port"),
                    ApiKey = ApiKey(parseResult.GetValue(apiKey), parseResult.GetValue(apiKeyFile)),
                    Parallel = Check(parseResult.GetValue(parallel), 1, 256, "--parallel"),
                    ContextSize = parseResult.GetValue(context) is { } c ? Check(c, 8, 1 << 20, "--ctx-size") : null,
                    QueueCapacity = Check(parseResult.GetValue(queue), 0, 100_000, "--queue"),
                    BatchSize = Check(parseResult.GetValue(batch), 1, 8192, "--batch-size"),
                };
                if (!System.Net.IPAddress.TryParse(options.Host, out _) && options.Host != "localhost")
                    throw new ArgumentException($"--host must be an IP address or localhost; got '{options.Host}'");
                var path = Inference.DefaultModel.Resolve(parseResult.GetValue(model));
                var templateName = parseResult.GetValue(template);
                Generation.CompletionTemplate.Resolve(templateName, null); // unknown names fail now, listing the valid ones

                var caches = cacheTypes.Read(parseResult);
                var load = repack.Read(parseResult);
                LlameroEngine? engine = null;
                await using var server = LlameroServer.Create(options, () => engine = LlameroEngine.Load(path, templateName, cacheTypes: caches, load: load));
                await server.StartAsync(cancellation);
                output.WriteLine($"llamero serve: listening on {server.BaseAddress} (chat page at /, API at {server.BaseAddress}v1), loading {path}");
                await server.Loaded;
                output.WriteLine($"model {server.ModelId} ready: {options.Parallel} slots x {server.ContextSize} tokens, queue {options.QueueCapacity}" +
                                 (options.ApiKey is null ? "" : ", API key required"));
                if (engine is not null)
                    output.WriteLine(Inference.RepackArgument.Describe(engine.Model, load));
                // Ends on Ctrl+C / SIGTERM (the host's own handler or the command's cancellation, whichever sees it).
                await server.WaitForShutdownAsync(cancellation);
                output.WriteLine("llamero serve: stopping");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException
                                          or FormatException or UnauthorizedAccessException or InvalidOperationException)
            {
                error.WriteLine($"llamero serve: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static int Check(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new ArgumentException($"{name} must be between {min} and {max}; got {value}");

    private static string? ApiKey(string? key, string? file)
    {
        if (key is not null && file is not null)
            throw new ArgumentException("give either --api-key or --api-key-file, not both");
        if (file is null)
            return string.IsNullOrEmpty(key) ? (key is null ? null : throw new ArgumentException("--api-key must not be empty")) : key;
        var line = File.ReadLines(file).FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(line) ? throw new ArgumentException($"--api-key-file {file}: the first line is empty") : line;
    }
}
