using System.CommandLine;
using Llamero.Quantization;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero quantize IN OUT TYPE [--threads N] [--pure] [--allow-requantize]</c>: llama-quantize's mixes.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "GGUF model to read (F32/F16/BF16, or quantized with --allow-requantize)." };
        var output = new Argument<string>("output") { Description = "GGUF file to write (appears only when complete)." };
        var type = new Argument<string>("type")
        {
            Description = "Mix: " + string.Join(", ", QuantizationMix.All.Select(m => m.Name)) + ".",
        };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (default: all cores)." };
        var pure = new Option<bool>("--pure") { Description = "Give every quantizable tensor the mix's default type (no per-tensor rules)." };
        var requantize = new Option<bool>("--allow-requantize") { Description = "Accept already-quantized input tensors." };
        var command = new Command("quantize", "Quantize a GGUF model with llama-quantize's per-tensor type choice (byte-identical tensors).")
        {
            input, output, type, threads, pure, requantize,
        };
        command.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            return GgufCommandErrors.Run(error, () =>
            {
                var mix = QuantizationMix.Parse(parseResult.GetValue(type)!);
                var options = new QuantizeOptions(parseResult.GetValue(threads), parseResult.GetValue(pure), parseResult.GetValue(requantize));
                var result = ModelQuantizer.Quantize(parseResult.GetValue(input)!, parseResult.GetValue(output)!, mix, options, error);
                parseResult.InvocationConfiguration.Output.WriteLine(
                    $"wrote {parseResult.GetValue(output)} ({mix.Name}, {result.QuantizedCount}/{result.TensorCount} tensors converted, {InfoCommand.Bytes(result.OutputBytes)})");
                return 0;
            });
        });
        return command;
    }
}
