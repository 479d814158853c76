using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public sealed class GgufBadInputTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-gguf-bad");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GgufFormatException Rejects(byte[] bytes)
    {
        var path = Path.Combine(_dir, "bad.gguf");
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.Equal(path, ex.FilePath);
        Assert.StartsWith($"{path} at byte {ex.Offset}: ", ex.Message);
        return ex;
    }

    private static void AssertProblem(GgufFormatException ex, long offset, string problem)
    {
        Assert.Contains(problem, ex.Problem);
        Assert.Equal(offset, ex.Offset);
    }

    [Fact]
    public void Wrong_magic()
    {
        AssertProblem(Rejects("GGML\x03\0\0\0"u8.ToArray()), 0, "wrong magic 0x47474D4C");
    }

    [Fact]
    public void Unknown_and_big_endian_versions()
    {
        AssertProblem(Rejects(RawGguf.Header(0, 0, version: 4).ToArray()), 4, "unknown GGUF version 4");
        AssertProblem(Rejects(RawGguf.Header(0, 0, version: 0x03000000).ToArray()), 4, "big-endian GGUF (version 3)");
    }

    [Fact]
    public void Truncated_anywhere_in_the_header()
    {
        var whole = File.ReadAllBytes(TestPaths.Stories260K);
        foreach (var length in new[] { 0, 3, 6, 12, 20, 30, 100, 5000, 14000 })
        {
            var problem = Rejects(whole[..length]).Problem;
            Assert.True(problem.Contains("truncated") || problem.Contains("runs past the end of the file"), problem);
        }
    }

    [Fact]
    public void Truncated_tensor_data_names_the_tensor()
    {
        var whole = File.ReadAllBytes(TestPaths.Stories260K);
        var ex = Rejects(whole[..^100]);
        AssertProblem(ex, whole.Length - 100, "truncated: tensor blk.4.ffn_norm.weight data ends at byte 1185376");
    }

    [Fact]
    public void String_length_past_the_end()
    {
        var raw = RawGguf.Header(0, 1).U64(1UL << 40).Raw("abcdefghijklmnop"u8);
        AssertProblem(Rejects(raw.ToArray()), 24, "metadata key length 1099511627776 runs past the end of the file");
    }

    [Fact]
    public void Array_length_past_the_end()
    {
        var raw = RawGguf.Header(0, 1).Str("arr").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.UInt32).U64(1_000_000).U32(1);
        AssertProblem(Rejects(raw.ToArray()), 43, "\"arr\" array length 1000000 runs past the end");
        var strings = RawGguf.Header(0, 1).Str("s").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.String).U64(ulong.MaxValue);
        Assert.Contains("array length 18446744073709551615 runs past the end", Rejects(strings.ToArray()).Problem);
    }

    [Fact]
    public void Counts_that_cannot_fit()
    {
        Assert.Contains("metadata count", Rejects(RawGguf.Header(0, ulong.MaxValue).ToArray()).Problem);
        Assert.Contains("tensor count", Rejects(RawGguf.Header(1UL << 60, 0).ToArray()).Problem);
    }

    [Fact]
    public void Tensor_data_past_the_end()
    {
        var raw = RawGguf.Header(1, 0).Tensor("w", [8], (uint)GgmlType.F32, 0).Data(16);
        AssertProblem(Rejects(raw.ToArray()), raw.Position, "truncated: tensor w data ends at byte");
    }

    [Fact]
    public void Overlapping_tensors()
    {
        var raw = RawGguf.Header(2, 0).Tensor("a", [16], (uint)GgmlType.F32, 0).Tensor("b", [8], (uint)GgmlType.F32, 32).Data(128);
        Assert.Contains("tensor b data [32, 64) overlaps tensor a [0, 64)", Rejects(raw.ToArray()).Problem);
    }

    [Fact]
    public void Misaligned_data_offset()
    {
        var raw = RawGguf.Header(1, 0).Tensor("w", [4], (uint)GgmlType.F32, 4).Data(64);
        Assert.Contains("tensor w data offset 4 is not a multiple of the alignment 32", Rejects(raw.ToArray()).Problem);
    }

    [Fact]
    public void Dimensions_that_overflow_and_too_many_dimensions()
    {
        var overflow = RawGguf.Header(1, 0).Tensor("w", [1UL << 40, 1UL << 40], (uint)GgmlType.F32, 0).Data(0);
        Assert.Contains("tensor w dimensions 1099511627776 x 1099511627776 overflow", Rejects(overflow.ToArray()).Problem);
        var huge = RawGguf.Header(1, 0).Tensor("w", [ulong.MaxValue], (uint)GgmlType.F32, 0).Data(0);
        Assert.Contains("dimension 0 = 18446744073709551615 is out of range", Rejects(huge.ToArray()).Problem);
        var bytes = RawGguf.Header(1, 0).Tensor("w", [1UL << 62], (uint)GgmlType.F32, 0).Data(0);
        Assert.Contains("byte size overflows", Rejects(bytes.ToArray()).Problem);
        var dims = RawGguf.Header(1, 0).Tensor("w", [1, 1, 1, 1, 1], (uint)GgmlType.F32, 0).Data(32);
        Assert.Contains("tensor w has 5 dimensions (at most 4)", Rejects(dims.ToArray()).Problem);
    }

    [Fact]
    public void Duplicate_keys_and_tensor_names()
    {
        var keys = RawGguf.Header(0, 2).KvU32("k", 1).KvU32("k", 2);
        AssertProblem(Rejects(keys.ToArray()), 24 + 8 + 1 + 4 + 4, "duplicate metadata key \"k\"");
        var names = RawGguf.Header(2, 0).Tensor("w", [8], 0, 0).Tensor("w", [8], 0, 32).Data(64);
        Assert.Contains("duplicate tensor name \"w\"", Rejects(names.ToArray()).Problem);
    }

    [Fact]
    public void Unknown_value_type_bad_bool_bad_alignment_and_deep_nesting()
    {
        Assert.Contains("unknown value type 13", Rejects(RawGguf.Header(0, 1).Str("k").U32(13).U32(0).ToArray()).Problem);
        Assert.Contains("bool has value 7", Rejects(RawGguf.Header(0, 1).Str("k").U32(7).Raw([7]).ToArray()).Problem);
        Assert.Contains("general.alignment = 24 (UInt32) is not a power of two",
            Rejects(RawGguf.Header(0, 1).KvU32(GgufKeys.General.Alignment, 24).ToArray()).Problem);
        var deep = RawGguf.Header(0, 1).Str("deep").U32((uint)GgufValueType.Array);
        for (var i = 0; i < 20; i++)
            deep.U32((uint)GgufValueType.Array).U64(1);
        deep.U32((uint)GgufValueType.UInt8).U64(0);
        Assert.Contains("nests arrays deeper than", Rejects(deep.ToArray()).Problem);
    }

    [Fact]
    public void Row_length_must_fill_whole_blocks()
    {
        var raw = RawGguf.Header(1, 0).Tensor("q", [33], (uint)GgmlType.Q4_0, 0).Data(64);
        Assert.Contains("tensor q row length 33 is not a multiple of the Q4_0 block size 32", Rejects(raw.ToArray()).Problem);
    }

    [Fact]
    public void Unknown_tensor_type_is_listed_by_name_with_the_room_it_takes()
    {
        var raw = RawGguf.Header(2, 0).Tensor("odd", [64], 4, 0).Tensor("w", [8], (uint)GgmlType.F32, 64).Data(96);
        var path = raw.WriteTo(_dir);
        using var file = GgufFile.Open(path);
        var odd = file.GetTensor("odd");
        Assert.False(odd.IsKnownType);
        Assert.Equal("type#4", odd.TypeName);
        Assert.Equal(64, odd.ByteSize);
        Assert.Equal(32, file.GetTensor("w").ByteSize);
    }

    [Fact]
    public void Zero_tensor_file_need_not_be_padded()
    {
        var path = RawGguf.Header(0, 1).KvU32("k", 5).WriteTo(_dir);
        using var file = GgufFile.Open(path);
        Assert.Equal(5, file.Require<int>("k"));
    }
}
