using System.Buffers.Binary;
using Llamero.Gguf;
using Llamero.Tests.Support;
using Xunit.Abstractions;

namespace Llamero.Tests.Gguf;

/// <summary>
/// Mutates and truncates the real GGUF files thousands of times (fixed seed) and checks that opening each result either
/// succeeds (and every tensor is readable) or throws <see cref="GgufFormatException"/>, never anything else, and that no
/// attempt allocates more than a small multiple of the file's size.
/// </summary>
public class GgufFuzzTests(ITestOutputHelper log)
{
    private const int IterationsPerFile = 500;

    private static readonly ulong[] Interesting =
        [0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 64, 255, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, ulong.MaxValue];

    [Theory]
    [InlineData("stories260K/stories260K.gguf", 1)]
    [InlineData("stories260K/legacy-gguf-v1/tinyllamas-stories-260k-f32.gguf", 2)]
    [InlineData("llama-cpp-vocab/ggml-vocab-llama-spm.gguf", 3)]
    [InlineData("llama2-tiny-random/llama-2-tiny-random.gguf", 4)]
    public void Mutated_and_truncated_files_load_or_fail_cleanly(string relative, int seed)
    {
        var original = File.ReadAllBytes(TestPaths.Shared(relative.Split('/')));
        long headerEnd;
        using (var file = GgufFile.Open(TestPaths.Shared(relative.Split('/'))))
            headerEnd = Math.Min(original.Length, file.DataOffset());
        var path = Path.Combine(TestPaths.NewTempDir("llamero-fuzz"), "fuzz.gguf");
        var random = new Random(seed);
        var allocationLimit = 16L * original.Length + (16 << 20);
        int loaded = 0, rejected = 0;
        long worstAllocation = 0;

        for (var i = 0; i < IterationsPerFile; i++)
        {
            var bytes = Mutate(original, (int)headerEnd, random);
            File.WriteAllBytes(path, bytes);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var file = GgufFile.Open(path);
                foreach (var t in file.Tensors)
                    _ = file.GetTensorPointer(t);
                loaded++;
            }
            catch (GgufFormatException ex)
            {
                Assert.Equal(path, ex.FilePath);
                rejected++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"iteration {i}: {ex.GetType().Name}: {ex.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            worstAllocation = Math.Max(worstAllocation, allocated);
            Assert.True(allocated < allocationLimit, $"iteration {i} allocated {allocated} bytes for a {bytes.Length}-byte file");
        }
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        log.WriteLine($"{relative}: {loaded} loaded, {rejected} rejected, worst allocation {worstAllocation} bytes");
        Assert.True(rejected > IterationsPerFile / 10, "the mutations should break most files");
    }

    private static byte[] Mutate(byte[] original, int headerEnd, Random random)
    {
        var choice = random.Next(10);
        if (choice < 2)
            return original[..random.Next(original.Length)];
        var bytes = (byte[])original.Clone();
        var at = random.Next(headerEnd);
        if (choice < 6)
        {
            for (var n = random.Next(1, 5); n > 0; n--)
                bytes[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
        }
        else if (choice < 9)
        {
            var value = Interesting[random.Next(Interesting.Length)];
            if (random.Next(2) == 0 && at + 8 <= bytes.Length)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
            else if (at + 4 <= bytes.Length)
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)value);
        }
        else
        {
            bytes[at] = (byte)random.Next(256);
        }
        return bytes;
    }
}
