using System.CommandLine;
using Llamero.Cli;
using Llamero.Hub;
using Llamero.Tests.Support;

namespace Llamero.Tests.Hub;

/// <summary>
/// <c>llamero download</c> and <c>hf:</c> model specs, in-process, against the fake hub. These set HF_ENDPOINT and
/// LLAMERO_CACHE for the process, so they live in one class (xunit runs a class's tests one at a time).
/// </summary>
public sealed class DownloadCommandTests : IDisposable
{
    private const string Repo = "acme/Cli-GGUF";
    private readonly FakeHub _hub = new();
    private readonly string _dir = TestPaths.NewTempDir("llamero-hub-cli");
    private readonly byte[] _model = FakeHub.RandomBytes(600_000, seed: 7);
    private readonly string? _oldEndpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");
    private readonly string? _oldCache = Environment.GetEnvironmentVariable("LLAMERO_CACHE");
    private readonly string? _oldToken = Environment.GetEnvironmentVariable("HF_TOKEN");

    public DownloadCommandTests()
    {
        _hub.AddRepo(Repo);
        _hub.AddFile(Repo, "cli.Q4_K_M.gguf", _model);
        _hub.AddFile(Repo, "cli.Q8_0.gguf", FakeHub.RandomBytes(1000, seed: 8));
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _hub.Endpoint);
        Environment.SetEnvironmentVariable("LLAMERO_CACHE", Path.Combine(_dir, "cache"));
        Environment.SetEnvironmentVariable("HF_TOKEN", null);
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = Program.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Download_with_include_prints_the_paths_and_draws_progress_on_stderr()
    {
        var target = Path.Combine(_dir, "models");
        var (code, output, error) = Run("download", Repo, "--include", "*Q4_K*gguf", "--local-dir", target, "--connections", "2");
        Assert.True(code == 0, error);
        var path = Path.Combine(target, "cli.Q4_K_M.gguf");
        Assert.Equal(path, output.Trim());
        Assert.Equal(_model, File.ReadAllBytes(path));
        Assert.Contains("cli.Q4_K_M.gguf", error);
        Assert.Contains("100%", error);
        Assert.Contains("verified", error);
    }

    [Fact]
    public void Errors_are_one_line_with_a_non_zero_exit_code()
    {
        var target = Path.Combine(_dir, "errors");
        var missing = Run("download", Repo, "missing.gguf", "--local-dir", target);
        Assert.Equal(1, missing.Code);
        Assert.StartsWith("error: ", missing.Error);
        Assert.Contains("not found", missing.Error);
        Assert.Single(missing.Error.Trim().Split('\n'));

        var noMatch = Run("download", Repo, "--include", "*Q2_K*", "--local-dir", target);
        Assert.Equal(1, noMatch.Code);
        Assert.Contains("matches '*Q2_K*'", noMatch.Error);

        _hub.AddRepo("acme/gated", token: "t");
        var gated = Run("download", "acme/gated", "x.gguf", "--local-dir", target);
        Assert.Equal(1, gated.Code);
        Assert.Contains("HF_TOKEN is not set", gated.Error);
        Assert.False(Directory.Exists(target) && Directory.EnumerateFiles(target, "*.gguf", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void An_hf_spec_downloads_into_the_cache_once_and_then_works_offline()
    {
        var path = ModelLocator.Resolve("hf:" + Repo + ":Q4_K_M");
        Assert.Equal(Path.Combine(_dir, "cache", "hub", "acme--Cli-GGUF", "main", "cli.Q4_K_M.gguf"), path);
        Assert.Equal(_model, File.ReadAllBytes(path));

        _hub.Dispose();   // the hub is gone: the cached file still resolves
        Assert.Equal(path, ModelLocator.Resolve("hf:" + Repo + "/cli.Q4_K_M.gguf"));
    }

    [Fact]
    public void A_byte_split_model_downloads_as_parts_that_open_as_one_model()
    {
        var model = File.ReadAllBytes(TestPaths.Stories260K);
        var half = model.Length / 2;
        _hub.AddRepo("acme/Split-GGUF");
        _hub.AddFile("acme/Split-GGUF", "stories.gguf-split-a", model[..half]);
        _hub.AddFile("acme/Split-GGUF", "stories.gguf-split-b", model[half..]);

        var path = ModelLocator.Resolve("hf:acme/Split-GGUF/stories.gguf", new HubDownloaderTests.SyncProgress([]));
        Assert.EndsWith("stories.gguf-split-a", path);
        Assert.True(File.Exists(path[..^1] + "b"));
        using var gguf = Llamero.Gguf.GgufFile.Open(path);
        using var whole = Llamero.Gguf.GgufFile.Open(TestPaths.Stories260K);
        Assert.Equal(whole.Tensors.Select(t => t.Name), gguf.Tensors.Select(t => t.Name));
        Assert.True(gguf.GetTensorData(gguf.GetTensor("output.weight")).SequenceEqual(whole.GetTensorData(whole.GetTensor("output.weight"))));
    }

    [Fact]
    public async Task An_hf_spec_with_an_ambiguous_tag_lists_the_choices()
    {
        var error = await Assert.ThrowsAsync<HubException>(() => HubCache.ResolveAsync("hf:" + Repo + ":gguf"));
        Assert.Contains("cli.Q4_K_M.gguf, cli.Q8_0.gguf", error.Message);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _oldEndpoint);
        Environment.SetEnvironmentVariable("LLAMERO_CACHE", _oldCache);
        Environment.SetEnvironmentVariable("HF_TOKEN", _oldToken);
        _hub.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
