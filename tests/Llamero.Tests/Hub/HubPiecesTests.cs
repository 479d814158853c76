using Llamero.Hub;

namespace Llamero.Tests.Hub;

/// <summary>Glob patterns, split-part names, hub specs and the progress line.</summary>
public class HubPiecesTests
{
    [Theory]
    [InlineData("*Q4_K*gguf", "synthia-70b.Q4_K_M.gguf", true)]
    [InlineData("*Q4_K*gguf", "synthia-70b.Q4_K_S.gguf", true)]
    [InlineData("*Q4_K*gguf", "synthia-70b.Q4_0.gguf", false)]
    [InlineData("*.gguf", "sub/dir/x.gguf", true)]          // fnmatch: '*' crosses '/'
    [InlineData("model-?.bin", "model-1.bin", true)]
    [InlineData("model-?.bin", "model-12.bin", false)]
    [InlineData("[!a]*.txt", "b.txt", true)]
    [InlineData("[!a]*.txt", "a.txt", false)]
    [InlineData("[ab].txt", "b.txt", true)]
    [InlineData("sub/", "sub/a/b.gguf", true)]
    [InlineData("a.b", "aXb", false)]
    [InlineData("x[", "x[", true)]
    public void Glob_matches_like_fnmatch(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));

    [Fact]
    public void Split_parts_are_grouped_and_ordered()
    {
        Assert.True(SplitParts.TryGetWholeName("m.Q8_0.gguf-split-b", out var whole));
        Assert.Equal("m.Q8_0.gguf", whole);
        Assert.False(SplitParts.TryGetWholeName("m.Q8_0.gguf", out _));
        Assert.Equal(["m.gguf-split-a", "m.gguf-split-b", "m.gguf-split-aa"],
            SplitParts.PartsOf("m.gguf", ["m.gguf-split-aa", "m.gguf-split-b", "other.gguf-split-a", "m.gguf-split-a"]));
    }

    [Fact]
    public void Hub_specs_parse_into_repo_file_and_tag()
    {
        Assert.Equal(("TheBloke/Synthia-70B-GGUF", "synthia-70b.Q4_K_M.gguf", (string?)null),
            HubCache.Parse("hf:TheBloke/Synthia-70B-GGUF/synthia-70b.Q4_K_M.gguf"));
        Assert.Equal(("TheBloke/Synthia-70B-GGUF", (string?)null, "Q5_K_M"), HubCache.Parse("hf:TheBloke/Synthia-70B-GGUF:Q5_K_M"));
        Assert.Equal(("a/b", "sub/x.gguf", (string?)null), HubCache.Parse("hf:a/b/sub/x.gguf"));
        Assert.Contains("not a hub model", Assert.Throws<HubException>(() => HubCache.Parse("hf:justone")).Message);
        Assert.Contains("not a repo id", Assert.Throws<HubException>(() => HubCache.Parse("hf:a b/c/x.gguf")).Message);
        Assert.Equal("/tmp/x.gguf", ModelLocator.Resolve("/tmp/x.gguf"));
    }

    [Fact]
    public void Progress_line_shows_percentage_bar_rate_and_eta()
    {
        var line = ProgressLine.Format(new DownloadProgress("dir/m.gguf", DownloadPhase.Downloading, 512L << 20, 1L << 30, 8 << 20), barWidth: 10);
        Assert.Equal("m.gguf   50% [#####.....] 512.0 MiB/1.0 GiB  8.0 MiB/s  ETA 1:04", line);
        Assert.Equal("1.5 KiB", ProgressLine.Bytes(1536));
        Assert.Contains("ETA --:--", ProgressLine.Format(new DownloadProgress("m", DownloadPhase.Downloading, 0, 100, 0)));
    }
}
