using System.Runtime.InteropServices;
using Llamero.Kernels;
using Llamero.Tests.Models;

namespace Llamero.Tests.Kernels;

/// <summary>
/// <see cref="HugePageBacking"/>: a region stays advised for huge pages while populating it is cheap; the first dear
/// populate puts the rest on small pages, and once filled the whole region is advised for huge pages again (for
/// khugepaged). Read back from the VmFlags of /proc/self/smaps (hg = huge pages advised, nh = not).
/// </summary>
public sealed unsafe class HugePageBackingTests
{
    private const long HugePage = RepackedWeights.HugePageBytes;

    [Theory]
    [InlineData(double.MaxValue, false)]
    [InlineData(0.0, true)]
    public void A_dear_populate_switches_the_rest_to_small_pages_until_the_region_is_filled(double dearSecondsPerMiB, bool switches)
    {
        if (!OperatingSystem.IsLinux())
            return;
        const long bytes = 8 * HugePage;
        var region = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, (nuint)HugePage);
        try
        {
            var backing = new HugePageBacking(region, bytes, dearSecondsPerMiB);
            Assert.Equal("hg", HugeFlag(region + bytes - 1));
            backing.Populate(region, HugePage / 2);
            Assert.Equal(switches, backing.SwitchedToSmallPages);
            Assert.Equal(switches ? "nh" : "hg", HugeFlag(region + bytes - 1));
            for (var offset = HugePage / 2; offset < bytes; offset += HugePage / 2)
                backing.Populate(region + offset, HugePage / 2);
            new Span<byte>(region, (int)bytes).Fill(7);
            backing.Filled();
            Assert.Equal("hg", HugeFlag(region));
            Assert.Equal("hg", HugeFlag(region + bytes - 1));
            Assert.Equal(7, region[bytes - 1]);
        }
        finally
        {
            NativeMemory.AlignedFree(region);
        }
    }

    // "hg", "nh" or "" for the mapping that holds `address`.
    private static string HugeFlag(byte* address)
    {
        var flags = ProcessMemory.FlagsOfMapping((nint)address);
        return flags.Contains("hg") ? "hg" : flags.Contains("nh") ? "nh" : "";
    }
}
