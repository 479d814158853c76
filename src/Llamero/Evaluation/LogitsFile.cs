using System.Text;

namespace Llamero.Evaluation;

/// <summary>
/// llama-perplexity's <c>--kl-divergence-base</c> file, byte for byte: "_logits_", int32 n_ctx, int32 n_vocab,
/// int32 n_chunk, the n_chunk x n_ctx evaluated tokens (int32), then for every scored position (n_ctx - 1 - n_ctx/2 per
/// chunk) one row of 2*((n_vocab+1)/2) + 4 uint16: float scale, float min_log_prob, and each token's log-probability
/// quantized to 16 bits over the top 16 nats (ln p = scale * q + min_log_prob). Little-endian.
/// </summary>
public static class LogitsFile
{
    /// <summary>The 8-byte magic at the start.</summary>
    public static ReadOnlySpan<byte> Magic => "_logits_"u8;

    /// <summary>uint16 values per row for a vocabulary of <paramref name="vocab"/> tokens.</summary>
    public static int RowValues(int vocab) => 2 * ((vocab + 1) / 2) + 4;

    /// <summary>Scored rows per chunk of <paramref name="contextSize"/> tokens.</summary>
    public static int RowsPerChunk(int contextSize) => contextSize - 1 - contextSize / 2;

    /// <summary>Quantizes one logits row into <paramref name="row"/> (length <see cref="RowValues"/>) as llama.cpp does.</summary>
    public static void Compress(ReadOnlySpan<float> logits, Span<ushort> row)
    {
        var max = logits[0];
        var min = logits[0];
        for (var i = 1; i < logits.Length; i++)
        {
            max = MathF.Max(max, logits[i]);
            min = MathF.Min(min, logits[i]);
        }
        min = MathF.Max(min, max - 16);
        var logSumExp = (float)Math.Log(LogProbs.SumExp(logits, max));
        var minLogProb = min - max - logSumExp;
        var scale = (max - min) / 65535f;
        row.Clear();
        WriteFloat(row, 0, scale);
        WriteFloat(row, 2, minLogProb);
        if (scale == 0)
            return;
        var inverse = 1 / scale;
        var values = row[4..];
        for (var i = 0; i < logits.Length; i++)
            values[i] = logits[i] > min ? (ushort)(int)MathF.Round(inverse * (logits[i] - min), MidpointRounding.ToEven) : (ushort)0;
    }

    /// <summary>The scale stored at the head of a row.</summary>
    public static float Scale(ReadOnlySpan<ushort> row) => ReadFloat(row, 0);

    /// <summary>The minimum log-probability stored at the head of a row.</summary>
    public static float MinLogProb(ReadOnlySpan<ushort> row) => ReadFloat(row, 2);

    private static void WriteFloat(Span<ushort> row, int at, float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        row[at] = (ushort)bits;
        row[at + 1] = (ushort)(bits >> 16);
    }

    private static float ReadFloat(ReadOnlySpan<ushort> row, int at) =>
        BitConverter.UInt32BitsToSingle(row[at] | ((uint)row[at + 1] << 16));
}

/// <summary>Writes a logits file to a temporary name and renames it into place on <see cref="Commit"/>; disposing
/// without committing deletes it, so a failed run leaves no partial file.</summary>
public sealed class LogitsFileWriter : IDisposable
{
    private readonly string _path;
    private readonly string _temp;
    private readonly BinaryWriter _writer;
    private ushort[] _row = [];
    private bool _committed;

    /// <summary>Starts writing <paramref name="path"/> (through PATH.partial).</summary>
    public LogitsFileWriter(string path)
    {
        _path = path;
        _temp = path + ".partial";
        _writer = new BinaryWriter(new FileStream(_temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20));
    }

    /// <summary>Writes the header and the evaluated tokens.</summary>
    public void WriteHeader(int contextSize, int vocab, int chunks, IReadOnlyList<int> tokens)
    {
        _writer.Write(LogitsFile.Magic);
        _writer.Write(contextSize);
        _writer.Write(vocab);
        _writer.Write(chunks);
        for (var i = 0; i < contextSize * chunks; i++)
            _writer.Write(tokens[i]);
        _row = new ushort[LogitsFile.RowValues(vocab)];
    }

    /// <summary>Compresses and writes one scored row.</summary>
    public void WriteRow(ReadOnlySpan<float> logits)
    {
        LogitsFile.Compress(logits, _row);
        foreach (var value in _row)
            _writer.Write(value);
    }

    /// <summary>Flushes and renames the file into place.</summary>
    public void Commit()
    {
        _writer.Dispose();
        File.Move(_temp, _path, overwrite: true);
        _committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Dispose();
        if (!_committed && File.Exists(_temp))
            File.Delete(_temp);
    }
}

/// <summary>Reads a logits file, checking its header and its length before any evaluation starts.</summary>
public sealed class LogitsFileReader : IDisposable
{
    private readonly BinaryReader _reader;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public LogitsFileReader(string path)
    {
        Path = path;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        _reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: false);
        try
        {
            Span<byte> magic = stackalloc byte[8];
            if (stream.Length < 20 || stream.ReadAtLeast(magic, 8, throwOnEndOfStream: false) != 8 || !magic.SequenceEqual(LogitsFile.Magic))
                throw new EvaluationException($"{path} does not look like a file of log-probabilities (no '_logits_' magic at offset 0)");
            ContextSize = _reader.ReadInt32();
            VocabSize = _reader.ReadInt32();
            Chunks = _reader.ReadInt32();
            if (ContextSize < 4 || VocabSize < 1 || Chunks < 1)
                throw new EvaluationException($"{path}: bad header at offset 8 (n_ctx {ContextSize}, n_vocab {VocabSize}, n_chunk {Chunks})");
            var expected = 20L + 4L * ContextSize * Chunks + 2L * LogitsFile.RowValues(VocabSize) * LogitsFile.RowsPerChunk(ContextSize) * Chunks;
            if (stream.Length != expected)
                throw new EvaluationException($"{path} holds {stream.Length} bytes, its header (n_ctx {ContextSize}, n_vocab {VocabSize}, n_chunk {Chunks}) needs {expected}: truncated or not a logits file");
            Tokens = new int[ContextSize * Chunks];
            for (var i = 0; i < Tokens.Length; i++)
                Tokens[i] = _reader.ReadInt32();
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>n_ctx the base run used.</summary>
    public int ContextSize { get; }

    /// <summary>n_vocab of the base model.</summary>
    public int VocabSize { get; }

    /// <summary>Chunks saved.</summary>
    public int Chunks { get; }

    /// <summary>The evaluated tokens (the chunks, before BOS replacement).</summary>
    public int[] Tokens { get; }

    /// <summary>Reads the next row into <paramref name="row"/> (length <see cref="LogitsFile.RowValues"/>).</summary>
    public void ReadRow(Span<ushort> row)
    {
        for (var i = 0; i < row.Length; i++)
            row[i] = _reader.ReadUInt16();
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();
}
