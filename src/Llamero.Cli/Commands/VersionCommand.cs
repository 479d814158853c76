using System.CommandLine;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero version</c>: the build and the SIMD instruction sets this CPU offers.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Llamero version and the CPU features it can use.");
        command.SetAction(_ =>
        {
            var version = typeof(Program).Assembly.GetName().Version;
            Console.WriteLine($"llamero {version} (.NET {Environment.Version})");
            Console.WriteLine($"cpu: AVX2={Avx2.IsSupported} FMA={Fma.IsSupported} AVX512F={Avx512F.IsSupported} AVX-VNNI={AvxVnni.IsSupported}");
            return 0;
        });
        return command;
    }
}
