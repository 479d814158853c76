using System.Buffers.Binary;
using System.Text;

namespace Llamero.Tests.Gguf;

/// <summary>Builds GGUF bytes field by field, so tests can write exactly the malformed file they need.</summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _bytes = new();

    public long Position => _bytes.Length;

    /// <summary>Magic, version, tensor count and metadata count (64-bit counts).</summary>
    public static RawGguf Header(ulong tensors, ulong kvs, uint version = 3) =>
        new RawGguf().Raw("GGUF"u8).U32(version).U64(tensors).U64(kvs);

    public RawGguf Raw(ReadOnlySpan<byte> b) { _bytes.Write(b); return this; }

    public RawGguf U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return Raw(b); }

    public RawGguf U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return Raw(b); }

    public RawGguf Str(string s) { var b = Encoding.UTF8.GetBytes(s); return U64((ulong)b.Length).Raw(b); }

    public RawGguf KvU32(string key, uint value) => Str(key).U32(4).U32(value);

    /// <summary>A tensor info: name, dims (ne0 first), type id, data offset.</summary>
    public RawGguf Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims)
            U64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero padding up to a multiple of <paramref name="alignment"/>, then <paramref name="dataBytes"/> zero bytes.</summary>
    public RawGguf Data(int dataBytes, int alignment = 32)
    {
        while (_bytes.Length % alignment != 0)
            _bytes.WriteByte(0);
        return Raw(new byte[dataBytes]);
    }

    public byte[] ToArray() => _bytes.ToArray();

    public string WriteTo(string dir, string name = "raw.gguf")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, ToArray());
        return path;
    }
}
