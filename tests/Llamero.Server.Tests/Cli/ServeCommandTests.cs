using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Llamero.Cli;
using Llamero.Tests.Support;

namespace Llamero.Server.Tests.Cli;

/// <summary><c>llamero serve</c> run in-process: it listens, serves the model, stops on cancellation; bad options exit 1 with one line.</summary>
public sealed class ServeCommandTests
{
    /// <summary>A writer that hands every written line to the test as it comes.</summary>
    private sealed class LineWriter : StringWriter
    {
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            Lines.Writer.TryWrite(value ?? "");
        }
    }

    [Fact]
    public async Task Serves_the_model_until_cancelled()
    {
        var keyFile = Path.Combine(TestPaths.NewTempDir(), "key.txt");
        await File.WriteAllTextAsync(keyFile, "from-a-file\n");
        var output = new LineWriter();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = Program.BuildRoot()
            .Parse(["serve", "-m", TestPaths.Stories260K, "--port", "0", "--parallel", "2", "-c", "128", "--api-key-file", keyFile])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, stop.Token);

        var listening = await output.Lines.Reader.ReadAsync();
        var url = Regex.Match(listening, @"listening on (\S+)").Groups[1].Value;
        Assert.StartsWith("http://127.0.0.1:", url);
        Assert.Contains("ready: 2 slots x 128 tokens", await output.Lines.Reader.ReadAsync());

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "from-a-file");
        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("stories260K", models.GetProperty("data")[0].GetProperty("id").GetString());

        stop.Cancel();
        Assert.Equal(0, await run);
        Assert.Equal("", error.ToString());
    }

    [Theory]
    [InlineData("--api-key,a,--api-key-file,b", "not both")]
    [InlineData("--chat-template,nope", "valid names")]
    [InlineData("--parallel,0", "--parallel must be between 1")]
    [InlineData("--port,70000", "--port must be between 0 and 65535")]
    [InlineData("--host,not-an-ip", "--host")]
    [InlineData("-m,/nonexistent/model.gguf", "model.gguf")]
    [InlineData("-ctk,q4_0", "K cache type q4_0 stores blocks of 32 elements, which do not divide this model's head size 8")]
    [InlineData("-ctv,bf16", "KV cache type 'bf16' is a llama.cpp type Llamero does not store yet; valid: f32, f16, q8_0")]
    public async Task Bad_options_exit_1_with_one_line(string args, string expected)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var given = args.Split(',');
        string[] argv = given.Contains("--port") ? ["serve", .. given] : ["serve", "--port", "0", .. given];
        var code = await Program.BuildRoot().Parse(argv).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        Assert.Equal(1, code);
        var line = error.ToString().TrimEnd();
        Assert.Contains(expected, line);
        Assert.DoesNotContain('\n', line);
    }
}
