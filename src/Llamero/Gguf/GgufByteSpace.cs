using System.Runtime.InteropServices;

namespace Llamero.Gguf;

/// <summary>
/// The bytes of one logical GGUF file: a single mapped file, or the byte-split parts
/// (<c>x.gguf-split-a</c>, <c>-split-b</c>, ...) that <c>cat</c> would join, each mapped separately.
/// A range inside one part is read in place. A range that straddles two parts (only possible for the
/// one tensor cut by the split point) is copied once into native memory and kept until disposal:
/// that costs the size of one tensor, and no part is ever joined on disk.
/// </summary>
internal sealed unsafe class GgufByteSpace : IDisposable
{
    private readonly MappedFile[] _parts;
    private readonly long[] _starts;
    private readonly Dictionary<long, nint> _straddlingCopies = [];
    private readonly Lock _copyLock = new();

    private GgufByteSpace(MappedFile[] parts)
    {
        _parts = parts;
        _starts = new long[parts.Length];
        long start = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            _starts[i] = start;
            start += parts[i].Length;
        }
        Length = start;
    }

    /// <summary>Total bytes over every part.</summary>
    public long Length { get; }

    /// <summary>The mapped files, in order.</summary>
    public IReadOnlyList<MappedFile> Parts => _parts;

    /// <summary>Maps each path in order as one logical byte space.</summary>
    public static GgufByteSpace Open(IReadOnlyList<string> paths)
    {
        var parts = new List<MappedFile>(paths.Count);
        try
        {
            foreach (var p in paths)
                parts.Add(MappedFile.Open(p));
            return new GgufByteSpace([.. parts]);
        }
        catch
        {
            foreach (var part in parts)
                part.Dispose();
            throw;
        }
    }

    /// <summary>The part holding logical byte <paramref name="offset"/> and the offset within it (for error messages).</summary>
    public (string Path, long LocalOffset) Locate(long offset)
    {
        var i = PartIndex(offset);
        return (_parts[i].Path, offset - _starts[i]);
    }

    /// <summary>
    /// Bytes [offset, offset+length): in place when inside one part, otherwise copied into <paramref name="scratch"/>
    /// (grown as needed). The caller has checked the range lies within <see cref="Length"/>.
    /// </summary>
    public ReadOnlySpan<byte> Read(long offset, int length, ref byte[]? scratch)
    {
        var i = PartIndex(offset);
        var local = offset - _starts[i];
        if (local + length <= _parts[i].Length)
            return new ReadOnlySpan<byte>(_parts[i].Pointer + local, length);
        if (scratch is null || scratch.Length < length)
            scratch = new byte[Math.Max(length, 256)];
        CopyTo(offset, scratch.AsSpan(0, length));
        return scratch.AsSpan(0, length);
    }

    /// <summary>
    /// Address of bytes [offset, offset+length), valid until disposal. In place when inside one part; a straddling
    /// range is copied once into native memory (64-byte aligned) and the copy reused.
    /// </summary>
    public nint Pointer(long offset, long length)
    {
        var i = PartIndex(offset);
        var local = offset - _starts[i];
        if (local + length <= _parts[i].Length)
            return (nint)(_parts[i].Pointer + local);
        lock (_copyLock)
        {
            if (_straddlingCopies.TryGetValue(offset, out var existing))
                return existing;
            var copy = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
            for (long done = 0; done < length;)
            {
                var chunk = (int)Math.Min(length - done, 1 << 30);
                CopyTo(offset + done, new Span<byte>(copy + done, chunk));
                done += chunk;
            }
            _straddlingCopies[offset] = (nint)copy;
            return (nint)copy;
        }
    }

    /// <summary>Releases the resident pages of [offset, offset+length) when they are mapped in place
    /// (<see cref="MappedFile.ReleasePages"/>); a range copied out of straddled parts is left alone.</summary>
    public void ReleasePages(long offset, long length)
    {
        var i = PartIndex(offset);
        var local = offset - _starts[i];
        if (local + length <= _parts[i].Length)
            _parts[i].ReleasePages(local, length);
    }

    private void CopyTo(long offset, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            var i = PartIndex(offset);
            var local = offset - _starts[i];
            var n = (int)Math.Min(destination.Length, _parts[i].Length - local);
            new ReadOnlySpan<byte>(_parts[i].Pointer + local, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
        }
    }

    private int PartIndex(long offset)
    {
        for (var i = _parts.Length - 1; i > 0; i--)
        {
            if (offset >= _starts[i])
                return i;
        }
        return 0;
    }

    public void Dispose()
    {
        lock (_copyLock)
        {
            foreach (var copy in _straddlingCopies.Values)
                NativeMemory.AlignedFree((void*)copy);
            _straddlingCopies.Clear();
        }
        foreach (var part in _parts)
            part.Dispose();
    }
}
