namespace Llamero.Sampling;

/// <summary>
/// The 32-bit Mersenne Twister (std::mt19937, the generator llama.cpp's samplers use), plus libstdc++'s
/// <c>generate_canonical&lt;double, 53&gt;</c> so a seeded draw consumes the generator exactly as llama.cpp does.
/// </summary>
public sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;

    /// <summary>Seeds the generator (std::mt19937's seed(value)).</summary>
    public Mt19937(uint seed) => Seed(seed);

    /// <summary>Re-seeds the generator.</summary>
    public void Seed(uint seed)
    {
        _state[0] = seed;
        for (var i = 1; i < N; i++)
            _state[i] = unchecked(1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    /// <summary>The next 32-bit output.</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
            Twist();
        var y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>
    /// A double in [0, 1) from two outputs, as libstdc++'s generate_canonical&lt;double, 53&gt;
    /// (and therefore uniform_real_distribution&lt;double&gt;(0, 1)) computes it.
    /// </summary>
    public double NextCanonical()
    {
        double low = NextUInt32();
        double high = NextUInt32();
        var value = (low + high * 4294967296.0) / 18446744073709551616.0;
        return value >= 1.0 ? Math.BitDecrement(1.0) : value;
    }

    private void Twist()
    {
        for (var i = 0; i < N; i++)
        {
            var y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7FFFFFFFu);
            var next = _state[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0)
                next ^= 0x9908B0DFu;
            _state[i] = next;
        }
        _index = 0;
    }
}
