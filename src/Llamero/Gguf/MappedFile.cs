using System.IO.MemoryMappedFiles;

namespace Llamero.Gguf;

/// <summary>
/// A whole file mapped read-only into memory. Opening costs a system call, not a read:
/// pages come from the page cache on first touch and are shared with every other reader.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _pointer = pointer;
    }

    /// <summary>The file's path as given.</summary>
    public string Path { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long Length { get; }

    /// <summary>Address of the first byte (null for an empty file). Valid until disposed.</summary>
    public byte* Pointer => _pointer;

    /// <summary>
    /// Drops the whole pages of [<paramref name="offset"/>, +<paramref name="length"/>) from this process's resident
    /// memory (Linux <c>madvise(MADV_DONTNEED)</c> on the shared read-only mapping: the page cache keeps them and a
    /// later touch reads them back). Elsewhere nothing happens.
    /// </summary>
    public void ReleasePages(long offset, long length)
    {
        if (_pointer is not null && offset >= 0 && offset + length <= Length)
            MemoryAdvice.Advise((nint)(_pointer + offset), length, MemoryAdvice.DontNeed, wholePagesOnly: true);
    }

    /// <summary>Maps <paramref name="path"/> read-only.</summary>
    public static MappedFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        var length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, 0, null, null, null);
        }
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, length, map, view, p + view.PointerOffset);
        }
        catch
        {
            view?.Dispose();
            if (map is null) stream.Dispose(); else map.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_view is not null && _pointer is not null)
        {
            _pointer = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
