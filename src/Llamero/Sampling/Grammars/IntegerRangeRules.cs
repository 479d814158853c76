using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// GBNF for exactly the integers in an inclusive 64-bit range, written as JSON writes them (no leading zeros, no
/// <c>-0</c>), built from digit ranges as llama.cpp's <c>_build_min_max_int</c> does.
/// </summary>
internal static class IntegerRangeRules
{
    // A side without a bound gets the 16 digits llama.cpp's plain integers have ("[1-9] [0-9]{0,15}").
    private const long Unbounded = 9_999_999_999_999_999;

    /// <summary>
    /// The range expression (without trailing space) for an integer schema's <c>minimum</c>, <c>maximum</c>,
    /// <c>exclusiveMinimum</c> and <c>exclusiveMaximum</c> (numbers, or draft-4 booleans), or null when it has none.
    /// Fractional bounds round inwards. A missing side allows 16 digits like a plain integer, or reaches the 64-bit
    /// limit when the other bound is already beyond 16 digits.
    /// </summary>
    public static string? ForSchema(JsonElement schema, string path)
    {
        var low = Bound(schema, "minimum", "exclusiveMinimum", lower: true, path);
        var high = Bound(schema, "maximum", "exclusiveMaximum", lower: false, path);
        if (low is null && high is null)
            return null;
        var min = low ?? (high < -Unbounded ? long.MinValue : -Unbounded);
        var max = high ?? (low > Unbounded ? long.MaxValue : Unbounded);
        if (min < long.MinValue)
            min = long.MinValue;
        if (max > long.MaxValue)
            max = long.MaxValue;
        if (min > max)
            throw new JsonSchemaException($"no integer lies between the bounds (at least {FormatBound(low)}, at most {FormatBound(high)})", path);
        return Expression((long)min, (long)max);
    }

    private static string FormatBound(BigInteger? bound) => bound?.ToString(CultureInfo.InvariantCulture) ?? "unbounded";

    // The tightest integer bound from the inclusive and exclusive keywords of one side.
    private static BigInteger? Bound(JsonElement schema, string inclusive, string exclusive, bool lower, string path)
    {
        BigInteger? result = null;
        var draft4Exclusive = false;
        if (schema.TryGetProperty(exclusive, out var exclusiveValue))
        {
            if (exclusiveValue.ValueKind is JsonValueKind.True or JsonValueKind.False)
                draft4Exclusive = exclusiveValue.ValueKind == JsonValueKind.True; // draft 4: modifies the inclusive keyword
            else
                result = Rounded(exclusiveValue, exclusive, lower, strict: true, path);
        }
        if (schema.TryGetProperty(inclusive, out var inclusiveValue))
        {
            var bound = Rounded(inclusiveValue, inclusive, lower, draft4Exclusive, path);
            result = result is not { } r ? bound : lower ? BigInteger.Max(r, bound) : BigInteger.Min(r, bound);
        }
        return result;
    }

    // The first integer inside the bound, for a lower bound, or the last, for an upper one.
    private static BigInteger Rounded(JsonElement value, string keyword, bool lower, bool strict, string path)
    {
        if (value.ValueKind != JsonValueKind.Number)
            throw new JsonSchemaException($"'{keyword}' must be a number", path);
        BigInteger floor, ceiling;
        if (value.TryGetInt64(out var whole))
        {
            floor = ceiling = whole;
        }
        else if (value.TryGetDecimal(out var fraction))
        {
            (floor, ceiling) = (new BigInteger(Math.Floor(fraction)), new BigInteger(Math.Ceiling(fraction)));
        }
        else
        {
            var d = value.GetDouble();
            if (!double.IsFinite(d))
                throw new JsonSchemaException($"'{keyword}' is out of range", path);
            (floor, ceiling) = (new BigInteger(Math.Floor(d)), new BigInteger(Math.Ceiling(d)));
        }
        if (lower)
            return strict ? floor + 1 : ceiling;
        return strict ? ceiling - 1 : floor;
    }

    /// <summary>An expression matching the decimal integers from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static string Expression(long min, long max)
    {
        if (min > max)
            throw new ArgumentOutOfRangeException(nameof(max), "the range is empty");
        var options = new List<string>();
        if (min < 0)
        {
            // Magnitudes of the negative part; -long.MinValue does not fit a long, so negate through ulong.
            var smallest = max < 0 ? Magnitude(max) : 1UL;
            options.Add($"\"-\" {Group(Magnitudes(smallest, Magnitude(min)))}");
        }
        if (max >= 0)
            options.AddRange(Magnitudes((ulong)Math.Max(min, 0), (ulong)max));
        return options.Count == 1 ? options[0] : $"( {string.Join(" | ", options)} )";
    }

    private static ulong Magnitude(long negative) => (ulong)(-(negative + 1)) + 1;

    // The numbers low..high written without leading zeros, as alternatives: the same-length ranges at each end,
    // and every length strictly between them as one "[1-9] [0-9]{a,b}".
    private static List<string> Magnitudes(ulong low, ulong high)
    {
        var lowText = low.ToString(CultureInfo.InvariantCulture);
        var highText = high.ToString(CultureInfo.InvariantCulture);
        if (lowText.Length == highText.Length)
            return SameLength(lowText, highText);
        var options = SameLength(lowText, new string('9', lowText.Length));
        var (shortest, longest) = (lowText.Length + 1, highText.Length - 1);
        if (shortest <= longest)
            options.Add($"[1-9] {Digits(shortest - 1, longest - 1)}");
        options.AddRange(SameLength("1" + new string('0', highText.Length - 1), highText));
        return options;
    }

    // Alternatives for the numbers with exactly as many digits as low and high (low <= high, same length).
    private static List<string> SameLength(string low, string high)
    {
        if (low == high)
            return [$"\"{low}\""];
        if (low[0] == high[0])
            return [$"\"{low[0]}\" {Group(SameLength(low[1..], high[1..]))}"];
        var rest = low.Length - 1;
        var options = new List<string>();
        var first = low[0];
        var last = high[0];
        // A bound whose remaining digits are all 0 (low) or all 9 (high) takes its whole digit's block.
        if (low.AsSpan(1).ContainsAnyExcept('0'))
        {
            options.Add($"\"{low[0]}\" {Group(SameLength(low[1..], new string('9', rest)))}");
            first++;
        }
        var highPart = high.AsSpan(1).ContainsAnyExcept('9')
            ? $"\"{high[0]}\" {Group(SameLength(new string('0', rest), high[1..]))}"
            : null;
        if (highPart is not null)
            last--;
        if (first <= last)
            options.Add((first == last ? $"\"{first}\"" : $"[{first}-{last}]") + (rest > 0 ? $" {Digits(rest, rest)}" : ""));
        if (highPart is not null)
            options.Add(highPart);
        return options;
    }

    private static string Digits(int min, int max) => (min, max) switch
    {
        (1, 1) => "[0-9]",
        _ when min == max => $"[0-9]{{{min}}}",
        _ => $"[0-9]{{{min},{max}}}",
    };

    // Alternatives as one element of a sequence.
    private static string Group(List<string> options) => options.Count == 1 ? options[0] : $"( {string.Join(" | ", options)} )";
}
