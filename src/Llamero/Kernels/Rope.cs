using System.Runtime.CompilerServices;
namespace Llamero.Kernels;

/// <summary>How RoPE frequencies are stretched for contexts longer than the model was trained on.</summary>
public enum RopeScalingType
{
    /// <summary>Plain RoPE.</summary>
    None,
    /// <summary>Position interpolation: every frequency scaled by 1/factor.</summary>
    Linear,
    /// <summary>YaRN: interpolation on low frequencies, extrapolation on high ones, and a magnitude correction.</summary>
    Yarn,
}

/// <summary>The hyper-parameters of rotary position embeddings, as llama.cpp reads them from GGUF.</summary>
/// <param name="Dimensions">Rotated dimensions per head (<c>rope.dimension_count</c>, default the head size);
/// the rest of the head passes through.</param>
/// <param name="FreqBase">θ base (<c>rope.freq_base</c>, default 10000).</param>
/// <param name="Scaling">Scaling type (<c>rope.scaling.type</c>).</param>
/// <param name="ScalingFactor">Context stretch factor (<c>rope.scaling.factor</c>); frequencies are scaled by its inverse.</param>
/// <param name="OriginalContextLength">Training context for YaRN's correction range (<c>rope.scaling.original_context_length</c>).</param>
/// <param name="YarnBetaFast">YaRN's high correction bound in rotations (llama.cpp default 32).</param>
/// <param name="YarnBetaSlow">YaRN's low correction bound in rotations (llama.cpp default 1).</param>
/// <param name="FrequencyFactors">Per-pair divisors of θ (<c>rope_freqs.weight</c>, Llama 3.1), or null.</param>
public sealed record RopeParameters(
    int Dimensions,
    float FreqBase = 10000f,
    RopeScalingType Scaling = RopeScalingType.None,
    float ScalingFactor = 1f,
    int OriginalContextLength = 0,
    float YarnBetaFast = 32f,
    float YarnBetaSlow = 1f,
    float[]? FrequencyFactors = null);

/// <summary>
/// Rotary position embeddings in llama.cpp's normal layout (mode 0: adjacent pairs (x[2i], x[2i+1]) rotate together),
/// with ggml's arithmetic: θ advances by repeated float multiplication with base^(−2/n_dims), cos/sin in float,
/// YaRN's ramp and magnitude scale applied as ggml's rope_yarn does.
/// </summary>
public sealed class Rope
{
    private readonly int _dims;
    private readonly float _thetaScale;
    private readonly float _freqScale;
    private readonly float _extFactor;
    private readonly float _corrLow;
    private readonly float _corrHigh;
    private readonly float[]? _freqFactors;

    /// <summary>Prepares the constants for <paramref name="p"/>.</summary>
    public Rope(RopeParameters p)
    {
        if (p.Dimensions <= 0 || p.Dimensions % 2 != 0)
            throw new ArgumentException($"RoPE dimension count must be positive and even, got {p.Dimensions}.");
        if (p.FrequencyFactors is { } ff && ff.Length < p.Dimensions / 2)
            throw new ArgumentException($"RoPE frequency factors hold {ff.Length} values; {p.Dimensions / 2} needed.");
        if (p.Scaling != RopeScalingType.None && !(p.ScalingFactor > 0))
            throw new ArgumentException($"RoPE scaling factor must be positive, got {p.ScalingFactor}.");
        Parameters = p;
        _dims = p.Dimensions;
        _thetaScale = MathF.Pow(p.FreqBase, -2f / _dims);
        _freqScale = p.Scaling == RopeScalingType.None ? 1f : 1f / p.ScalingFactor;
        _freqFactors = p.FrequencyFactors;
        // llama.cpp: yarn_ext_factor defaults to 1 for YaRN models and 0 otherwise.
        _extFactor = p.Scaling == RopeScalingType.Yarn ? 1f : 0f;
        if (_extFactor != 0)
        {
            var nCtxOrig = p.OriginalContextLength;
            var start = MathF.Floor(CorrectionDim(_dims, nCtxOrig, p.YarnBetaFast, p.FreqBase));
            var end = MathF.Ceiling(CorrectionDim(_dims, nCtxOrig, p.YarnBetaSlow, p.FreqBase));
            _corrLow = MathF.Max(0, start);
            _corrHigh = MathF.Min(_dims - 1, end);
        }
    }

    /// <summary>The parameters this instance was built from.</summary>
    public RopeParameters Parameters { get; }

    /// <summary>Rotated dimensions per head.</summary>
    public int Dimensions => _dims;

    /// <summary>
    /// Writes the (cos, sin) pairs of position <paramref name="position"/> into <paramref name="cosSin"/>
    /// (<see cref="Dimensions"/> floats: cos of pair i at 2i, sin at 2i+1).
    /// <paramref name="applyMagnitude"/> false leaves out YaRN's magnitude scale (a pure rotation, for re-rotating cached keys).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(float position, Span<float> cosSin, bool applyMagnitude = true)
    {
        var mscaleBase = 1f;
        var theta = position;
        for (var i0 = 0; i0 < _dims; i0 += 2)
        {
            var ff = _freqFactors is null ? 1f : _freqFactors[i0 / 2];
            var thetaExtrap = theta / ff;
            var thetaInterp = _freqScale * thetaExtrap;
            var t = thetaInterp;
            var mscale = mscaleBase;
            if (_extFactor != 0)
            {
                var rampMix = Ramp(_corrLow, _corrHigh, i0) * _extFactor;
                t = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
                if (applyMagnitude)
                    mscale *= 1f + 0.1f * MathF.Log(1f / _freqScale);
            }
            cosSin[i0] = MathF.Cos(t) * mscale;
            cosSin[i0 + 1] = MathF.Sin(t) * mscale;
            theta *= _thetaScale;
        }
    }

    /// <summary>
    /// Rotates every head of <paramref name="vector"/> (<paramref name="heads"/> heads of <paramref name="headSize"/>
    /// floats) by the angles in <paramref name="cosSin"/> (from <see cref="Fill"/>). Dimensions past
    /// <see cref="Dimensions"/> in each head are left as they are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Rotate(Span<float> vector, int heads, int headSize, ReadOnlySpan<float> cosSin)
    {
        if (headSize < _dims || vector.Length < heads * headSize || cosSin.Length < _dims)
            throw new ArgumentException($"RoPE: {heads} heads of {headSize} (rotating {_dims}) do not fit a vector of {vector.Length} and {cosSin.Length} angles.");
        for (var h = 0; h < heads; h++)
        {
            var head = vector.Slice(h * headSize, _dims);
            for (var i = 0; i < _dims; i += 2)
            {
                var c = cosSin[i];
                var s = cosSin[i + 1];
                var x0 = head[i];
                var x1 = head[i + 1];
                head[i] = x0 * c - x1 * s;
                head[i + 1] = x0 * s + x1 * c;
            }
        }
    }

    private static float Ramp(float low, float high, int i0)
    {
        var y = (i0 / 2 - low) / MathF.Max(0.001f, high - low);
        return 1 - MathF.Min(1, MathF.Max(0, y));
    }

    // The dimension at which a frequency makes nRot rotations over the original context.
    private static float CorrectionDim(int nDims, int nCtxOrig, float nRot, float freqBase) =>
        nDims * MathF.Log(nCtxOrig / (nRot * 2 * MathF.PI)) / (2 * MathF.Log(freqBase));
}
