using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public class GgufWriterTests
{
    /// <summary>Writes everything <paramref name="source"/> holds to <paramref name="path"/>.</summary>
    internal static void Rewrite(GgufFile source, string path, uint? version = null)
    {
        using var writer = new GgufWriter(path, version ?? source.Version);
        writer.AddMetadata(source.Metadata);
        foreach (var t in source.Tensors)
            writer.AddTensor(t.Name, t.Type, t.Dimensions, t.ByteSize);
        foreach (var t in source.Tensors)
            writer.WriteTensorData(source, t);
        writer.Commit();
    }

    [Theory]
    [InlineData("stories260K/stories260K.gguf")]
    [InlineData("llama-cpp-vocab/ggml-vocab-llama-spm.gguf")]
    [InlineData("llama2-tiny-random/llama-2-tiny-random.gguf")]
    [InlineData("stories260K/legacy-gguf-v1/tinyllamas-stories-260k-f32.gguf")]
    public void Read_then_write_gives_back_the_same_bytes(string relative)
    {
        var original = TestPaths.Shared(relative.Split('/'));
        var copy = Path.Combine(TestPaths.NewTempDir(), "copy.gguf");
        using (var file = GgufFile.Open(original))
            Rewrite(file, copy);
        Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(copy));
    }

    [Fact]
    public void Every_value_type_including_nested_arrays_round_trips()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "values.gguf");
        GgufKeyValue[] metadata =
        [
            new("u8", GgufValueType.UInt8, (byte)200),
            new("i8", GgufValueType.Int8, (sbyte)-100),
            new("u16", GgufValueType.UInt16, (ushort)60000),
            new("i16", GgufValueType.Int16, (short)-30000),
            new("u32", GgufValueType.UInt32, 4000000000u),
            new("i32", GgufValueType.Int32, -2000000000),
            new("f32", GgufValueType.Float32, 1.5f),
            new("bool", GgufValueType.Bool, true),
            new("str", GgufValueType.String, "héllo ✓"),
            new("u64", GgufValueType.UInt64, ulong.MaxValue),
            new("i64", GgufValueType.Int64, long.MinValue),
            new("f64", GgufValueType.Float64, Math.PI),
            GgufKeyValue.Of("strings", new GgufArray(GgufValueType.String, new[] { "a", "", "ccc" })),
            GgufKeyValue.Of("nested", new GgufArray(GgufValueType.Array, new[]
            {
                new GgufArray(GgufValueType.Int32, new[] { 1, 2, 3 }),
                new GgufArray(GgufValueType.String, new[] { "x" }),
                new GgufArray(GgufValueType.Array, new[] { new GgufArray(GgufValueType.Bool, new[] { true, false }) }),
            })),
            GgufKeyValue.Of("empty", new GgufArray(GgufValueType.Float64, Array.Empty<double>())),
        ];
        foreach (var version in new uint[] { 1, 2, 3 })
        {
            using (var writer = new GgufWriter(path, version))
            {
                writer.AddMetadata(metadata);
                writer.AddTensor("t", GgmlType.F32, [3L]);
                writer.WriteTensorData(new byte[12]);
                writer.Commit();
            }
            using var file = GgufFile.Open(path);
            Assert.Equal(version, file.Version);
            Assert.Equal(metadata.Length, file.Metadata.Count);
            for (var i = 0; i < metadata.Length; i++)
            {
                Assert.Equal(metadata[i].Key, file.Metadata[i].Key);
                Assert.Equal(metadata[i].Type, file.Metadata[i].Type);
                Assert.Equal(Flatten(metadata[i].Value), Flatten(file.Metadata[i].Value));
            }
            Assert.Equal(["a", "", "ccc"], file.Require<string[]>("strings"));
            Assert.Equal(-100, file.Require<int>("i8"));
            Assert.Equal(4000000000L, file.Require<long>("u32"));
        }
    }

    private static string Flatten(object value) => value is GgufArray a
        ? $"{a.ElementType}[{string.Join(",", a.Values.Cast<object>().Select(Flatten))}]"
        : $"{value.GetType().Name}:{value}";

    [Fact]
    public void Data_streams_in_chunks_across_tensors_and_is_aligned()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "chunks.gguf");
        using (var writer = new GgufWriter(path))
        {
            writer.AddMetadata(new GgufKeyValue(GgufKeys.General.Alignment, GgufValueType.UInt32, 64u));
            writer.AddTensor("a", GgmlType.F32, [5L]);
            writer.AddTensor("empty", GgmlType.F32, [0L]);
            writer.AddTensor("b", GgmlType.F16, [3L, 2L]);
            var all = Enumerable.Range(1, 20 + 12).Select(i => (byte)i).ToArray();
            foreach (var chunk in all.Chunk(7))
                writer.WriteTensorData(chunk);
            writer.Commit();
        }
        using var file = GgufFile.Open(path);
        Assert.Equal(64u, file.Alignment);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (byte)i), file.GetTensorData(file.GetTensor("a")).ToArray());
        Assert.Equal(Enumerable.Range(21, 12).Select(i => (byte)i), file.GetTensorData(file.GetTensor("b")).ToArray());
        Assert.Equal(0, file.GetTensor("b").Offset % 64);
        Assert.Equal(0, file.DataOffset() % 64);
    }

    [Fact]
    public void An_uncommitted_writer_leaves_no_file_and_keeps_the_old_one()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "model.gguf");
        File.WriteAllText(path, "old");
        using (var writer = new GgufWriter(path))
        {
            writer.AddTensor("a", GgmlType.F32, [4L]);
            writer.WriteTensorData(new byte[8]);
            Assert.Throws<InvalidOperationException>(writer.Commit);
        }
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Writer_rejects_duplicates_and_bad_values()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "bad.gguf");
        using var writer = new GgufWriter(path);
        writer.AddMetadata(GgufKeyValue.Of("k", 1u));
        Assert.Throws<ArgumentException>(() => writer.AddMetadata(GgufKeyValue.Of("k", 2u)));
        Assert.Throws<ArgumentException>(() => writer.AddMetadata(new GgufKeyValue("x", GgufValueType.UInt32, "text")));
        writer.AddTensor("t", GgmlType.F32, [1L]);
        Assert.Throws<ArgumentException>(() => writer.AddTensor("t", GgmlType.F32, [1L]));
        Assert.Throws<ArgumentException>(() => writer.AddTensor("q", GgmlType.Q4_0, [31L]));
    }
}
