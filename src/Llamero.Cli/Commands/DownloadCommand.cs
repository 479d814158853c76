using System.CommandLine;
using Llamero.Hub;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero download REPO [FILE ...] [--include GLOB ...] [--local-dir DIR]</c>: files from the Hugging Face Hub.</summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var repo = new Argument<string>("repo") { Description = "Repository id, OWNER/NAME (e.g. TheBloke/Synthia-70B-GGUF)" };
        var files = new Argument<string[]>("files")
        {
            Description = "Files to fetch (a NAME stored as NAME-split-a, -b, ... fetches every part); none and no --include: the whole repo",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var include = new Option<string[]>("--include")
        {
            Description = "Glob over the repo's file list, e.g. '*Q4_K_M*gguf' (repeatable); split parts match by their whole name",
            AllowMultipleArgumentsPerToken = true,
        };
        var localDir = new Option<string>("--local-dir") { Description = "Folder to put the files in", DefaultValueFactory = _ => "." };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit", DefaultValueFactory = _ => "main" };
        var connections = new Option<int>("--connections") { Description = "Parallel ranged connections per file", DefaultValueFactory = _ => 4 };
        var join = new Option<bool>("--join-splits") { Description = "Concatenate byte-split parts into one file once they check out" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress bar" };

        var command = new Command("download", "Download files from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN): parallel, resumable, sha256-verified.")
        {
            repo, files, include, localDir, revision, connections, join, quiet,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var connectionCount = parseResult.GetValue(connections);
            if (connectionCount is < 1 or > 64)
            {
                await error.WriteLineAsync("error: --connections must be between 1 and 64");
                return 1;
            }
            var bar = parseResult.GetValue(quiet) ? null : new DownloadProgressPrinter(error);
            var options = new DownloadOptions
            {
                Revision = parseResult.GetValue(revision)!,
                Connections = connectionCount,
                JoinSplitParts = parseResult.GetValue(join),
                Progress = bar,
            };
            try
            {
                using var client = new HubClient(HubSettings.FromEnvironment());
                var paths = await new HubDownloader(client).DownloadAsync(parseResult.GetValue(repo)!, parseResult.GetValue(files) ?? [],
                    parseResult.GetValue(include) ?? [], parseResult.GetValue(localDir)!, options, cancellationToken);
                bar?.Finish();
                foreach (var path in paths)
                    await output.WriteLineAsync(path);
                return 0;
            }
            catch (HubException e)
            {
                bar?.Finish();
                await error.WriteLineAsync("error: " + e.Message);
                return 1;
            }
            catch (IOException e)
            {
                bar?.Finish();
                await error.WriteLineAsync("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
