using System.Diagnostics;
using Llamero.Gguf;
using Llamero.Tests.Support;
using Xunit.Abstractions;

namespace Llamero.Tests.Gguf;

/// <summary>Sparse files (no disk space used) stand in for a 40 GB model: opening maps, it does not read.</summary>
public sealed class GgufLargeFileTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-sparse");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SparseFile(RawGguf header, long totalLength)
    {
        var path = Path.Combine(_dir, "big.gguf");
        using var stream = new FileStream(path, FileMode.CreateNew);
        stream.Write(header.ToArray());
        stream.SetLength(totalLength);
        return path;
    }

    [Fact]
    public void A_40_GiB_file_opens_without_reading_its_data()
    {
        const int tensors = 40;
        var header = RawGguf.Header(tensors, 1).Str(GgufKeys.General.Architecture).U32((uint)GgufValueType.String).Str("llama");
        for (var i = 0; i < tensors; i++)
            header.Tensor($"t{i}", [1UL << 28], (uint)GgmlType.F32, (ulong)i << 30);
        header.Data(0);
        var path = SparseFile(header, header.Position + ((long)tensors << 30));

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        using var file = GgufFile.Open(path);
        clock.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        log.WriteLine($"opened a {file.TotalFileSize >> 30} GiB file in {clock.Elapsed.TotalMilliseconds:F2} ms, {allocated} bytes allocated");

        Assert.Equal(tensors, file.Tensors.Count);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
        var last = file.Tensors[^1];
        Assert.Equal(1L << 30, last.ByteSize);
        Assert.NotEqual(0, file.GetTensorPointer(last));
        Assert.Equal(1 << 30, file.GetTensorData(last).Length);
        Assert.Equal(0, file.GetTensorData(last)[^1]);

        clock.Restart();
        using (GgufFile.Open(path))
            clock.Stop();
        log.WriteLine($"second open (JIT warm): {clock.Elapsed.TotalMilliseconds:F2} ms");
    }

    [Fact]
    public void A_hostile_array_length_in_a_huge_file_fails_before_allocating()
    {
        var header = RawGguf.Header(0, 1).Str("a").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.Bool).U64(3_000_000_000);
        var path = SparseFile(header, 8L << 30);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("array length 3000000000 is more than Llamero reads", ex.Problem);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }
}
