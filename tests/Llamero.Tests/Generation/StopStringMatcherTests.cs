using Llamero.Generation;

namespace Llamero.Tests.Generation;

public class StopStringMatcherTests
{
    [Fact]
    public void Holds_a_possible_prefix_and_cuts_at_the_match()
    {
        var matcher = new StopStringMatcher(["USER:"]);
        Assert.Equal("Hello", matcher.Push("Hello\nUS"[..5]));
        Assert.Equal("\n", matcher.Push("\nUS"));
        Assert.Equal("", matcher.Push("ER: hi"));
        Assert.True(matcher.Matched);
    }

    [Fact]
    public void Releases_text_that_stops_looking_like_a_stop()
    {
        var matcher = new StopStringMatcher(["</s>", "###"]);
        Assert.Equal("a ", matcher.Push("a <"));
        Assert.Equal("<b", matcher.Push("b"));
        Assert.Equal("", matcher.Push("##"));
        Assert.Equal("##", matcher.Flush());
        Assert.False(matcher.Matched);
    }

    [Fact]
    public void Earliest_stop_wins()
    {
        var matcher = new StopStringMatcher(["world", "lo"]);
        Assert.Equal("hel", matcher.Push("hello world"));
    }
}
