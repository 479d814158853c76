using System.Runtime.InteropServices;

namespace Llamero.Gguf;

/// <summary>Linux <c>madvise</c> over page ranges, for the mapped model file and the repacked copies (a no-op elsewhere).</summary>
internal static partial class MemoryAdvice
{
    public const int WillNeed = 3;
    public const int DontNeed = 4;
    public const int HugePage = 14;
    public const int PopulateRead = 22;
    public const int PopulateWrite = 23;

    /// <summary>
    /// Advises the pages of [<paramref name="start"/>, +<paramref name="length"/>): every page the range touches, or with
    /// <paramref name="wholePagesOnly"/> only the pages wholly inside it (so a neighbour's bytes on a shared page are spared).
    /// A hint: a kernel that refuses it changes nothing.
    /// </summary>
    public static void Advise(nint start, long length, int advice, bool wholePagesOnly = false)
    {
        if (!OperatingSystem.IsLinux() || length <= 0)
            return;
        var mask = (nint)(Environment.SystemPageSize - 1);
        var from = wholePagesOnly ? (start + mask) & ~mask : start & ~mask;
        var to = wholePagesOnly ? (start + (nint)length) & ~mask : (start + (nint)length + mask) & ~mask;
        if (to > from)
            _ = Madvise(from, (nuint)(to - from), advice);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
