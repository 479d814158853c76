using System.Globalization;
using System.Numerics;
using Llamero.Sampling.Grammars;

namespace Llamero.Tests.Grammar;

/// <summary>
/// Integer bounds (minimum, maximum, exclusiveMinimum, exclusiveMaximum) become digit-range rules that accept
/// exactly the integers inside, for any 64-bit bounds; number bounds are ignored, as llama.cpp ignores them.
/// </summary>
public class JsonSchemaIntegerTests
{
    private static Llamero.Sampling.Grammars.Grammar Schema(string json) => Llamero.Sampling.Grammars.Grammar.FromJsonSchema(json);

    private static string Bounds(long min, long max) =>
        $$"""{"type":"integer","minimum":{{min}},"maximum":{{max}}}""";

    [Theory]
    [InlineData("""{"type":"integer","minimum":0,"maximum":10}""", "0 5 10", "-1 11 05 -0 1.0 100")]
    [InlineData("""{"type":"integer","minimum":-15,"maximum":-3}""", "-15 -10 -3", "-16 -2 0 3 15 -03")]
    [InlineData("""{"type":"integer","minimum":-5,"maximum":5}""", "-5 -1 0 1 5", "-6 6 -0 -10 10")]
    [InlineData("""{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100}""", "1 50 99", "0 100 -1 101")]
    [InlineData("""{"type":"integer","minimum":1.5,"maximum":3.5}""", "2 3", "1 4")]
    [InlineData("""{"type":"integer","exclusiveMinimum":1.5,"exclusiveMaximum":3.5}""", "2 3", "1 4")]
    [InlineData("""{"type":"integer","minimum":0,"exclusiveMinimum":4,"maximum":9,"exclusiveMaximum":20}""", "5 9", "4 10")]
    [InlineData("""{"type":"integer","minimum":0,"exclusiveMinimum":true,"maximum":3}""", "1 3", "0")] // draft 4
    [InlineData("""{"type":"integer","minimum":0}""", "0 7 9999999999999999", "-1 10000000000000000")] // llama.cpp: 16 digits
    [InlineData("""{"type":"integer","maximum":-7}""", "-7 -9999999999999999", "-6 0 -10000000000000000")]
    [InlineData("""{"type":"integer","minimum":100000000000000000}""", "100000000000000000 9223372036854775807", "99999999999999999 9223372036854775808")]
    [InlineData("""{"type":"integer","maximum":-100000000000000000}""", "-100000000000000000 -9223372036854775808", "-99999999999999999 -9223372036854775809")]
    [InlineData("""{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}""",
        "-9223372036854775808 0 9223372036854775807", "-9223372036854775809 9223372036854775808 10000000000000000000")]
    [InlineData("""{"type":"integer","minimum":-1e30,"maximum":12}""", "-9223372036854775808 12", "-9223372036854775809 13")]
    [InlineData("""{"minimum":3,"maximum":4}""", "3 4", "2 5 \"3\"")] // no type: an integer, as llama.cpp reads it
    [InlineData("""{"type":["integer","null"],"minimum":1,"maximum":2}""", "1 2 null", "0 3")]
    [InlineData("""{"type":"number","minimum":5,"maximum":6}""", "1.5 -3 100", "\"5\"")] // ignored, as llama.cpp does
    public void Bounds_accept_exactly_the_integers_inside(string schema, string inside, string outside)
    {
        var grammar = Schema(schema);
        foreach (var text in inside.Split(' '))
            Assert.True(grammar.Matches(text), $"{text} should match {schema}");
        foreach (var text in outside.Split(' '))
            Assert.False(grammar.Matches(text), $"{text} should not match {schema}");
    }

    [Theory]
    [InlineData(-1100, 1100)]
    [InlineData(-999, -100)]
    [InlineData(-7, 0)]
    [InlineData(0, 0)]
    [InlineData(9, 10)]
    [InlineData(37, 1042)]
    [InlineData(-1000, -1000)]
    [InlineData(100, 999)]
    public void Every_value_near_small_bounds_is_classified_right(int min, int max)
    {
        var grammar = Schema(Bounds(min, max));
        for (var value = -1200; value <= 1200; value++)
            Assert.True(grammar.Matches(value.ToString(CultureInfo.InvariantCulture)) == (value >= min && value <= max), $"{value} in [{min}, {max}]");
    }

    [Fact]
    public void Random_64_bit_ranges_are_exact_at_and_around_their_ends()
    {
        var random = new Random(20261127);
        for (var round = 0; round < 40; round++)
        {
            var (a, b) = (RandomLong(random), RandomLong(random));
            var (min, max) = (Math.Min(a, b), Math.Max(a, b));
            var grammar = Schema(Bounds(min, max));
            var probes = new List<BigInteger> { min, max, (BigInteger)min - 1, (BigInteger)max + 1, (BigInteger)min + 1, (BigInteger)max - 1, 0 };
            for (var i = 0; i < 10; i++)
                probes.Add(RandomLong(random));
            foreach (var probe in probes)
            {
                var text = probe.ToString(CultureInfo.InvariantCulture);
                Assert.True(grammar.Matches(text) == (probe >= min && probe <= max), $"{text} in [{min}, {max}]");
            }
        }
    }

    // Values of every magnitude: a random digit count, then random digits.
    private static long RandomLong(Random random)
    {
        var digits = random.Next(1, 20);
        var magnitude = (long)(random.NextDouble() * Math.Pow(10, digits));
        return random.Next(2) == 0 ? -magnitude : magnitude;
    }

    [Theory]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "no integer lies between the bounds (at least 5, at most 4)")]
    [InlineData("""{"type":"integer","exclusiveMinimum":4,"exclusiveMaximum":5}""", "no integer lies between")]
    [InlineData("""{"type":"integer","minimum":1e30}""", "no integer lies between")]
    [InlineData("""{"type":"integer","maximum":"9"}""", "'maximum' must be a number")]
    public void Impossible_or_malformed_bounds_are_refused(string schema, string message)
    {
        var error = Assert.Throws<JsonSchemaException>(() => Schema("""{"type":"object","properties":{"n":""" + schema + "}}"));
        Assert.Contains(message, error.Message);
        Assert.Equal("#/properties/n", error.Path);
    }
}
