// The Llamero C# API in a few lines: load a GGUF model, stream a completion, then hold a short conversation.
// Run: dotnet run --project samples/Llamero.Samples.Generate -c Release [-- path/to/model.gguf]
using Llamero;
using Llamero.Generation;
using Llamero.Sampling;

var path = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "models", "stories260K.gguf");
using var llm = Llm.Load(path);

// 1. Completion, streamed piece by piece (same seed and options: same text, every run).
var options = new GenerationOptions
{
    MaxTokens = 64,
    Sampling = new SamplingOptions { Temperature = 0.7f, RepeatPenalty = 1.1f, Seed = 42 },
};
Console.Write("Once upon a time");
await foreach (var piece in llm.GenerateAsync("Once upon a time", options))
    Console.Write(piece);
Console.WriteLine();
Console.Error.WriteLine(llm.LastTimings?.Format());

// 2. A conversation: each turn evaluates only its new tokens, earlier ones stay in the KV cache.
using var chat = llm.StartChat();
foreach (var message in new[] { "Lily went to the park.", "Then she saw a dog." })
{
    Console.WriteLine($"> {message}");
    await foreach (var piece in chat.SendAsync(message, options with { MaxTokens = 32 }))
        Console.Write(piece);
    Console.WriteLine();
}
