using Llamero.Extensions.AI;
using Llamero.Models;
using Microsoft.Extensions.AI;

// A local model behind Microsoft.Extensions.AI: the same IChatClient code that talks to OpenAI or Azure,
// composed with ChatClientBuilder (default options here; logging, caching or telemetry plug in the same way).
//
//   dotnet run --project samples/ChatClientSample -- [model.gguf]
var path = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "models", "stories260K.gguf");
using var model = LlamaModel.Load(path);
using var local = LlameroChatClient.Create(model, contextSize: 512);

IChatClient client = new ChatClientBuilder(local)
    .ConfigureOptions(options =>
    {
        options.Temperature ??= 0.7f;
        options.MaxOutputTokens ??= 120;
    })
    .Build();

List<ChatMessage> history = [new(ChatRole.User, "Once upon a time, there was a little cat")];
Console.Write("assistant: ");
await foreach (var update in client.GetStreamingResponseAsync(history))
    Console.Write(update.Text);
Console.WriteLine();

// A second turn: the session still holds the first one, so only the new tokens are evaluated.
var first = await client.GetResponseAsync(history, new ChatOptions { Seed = 42, MaxOutputTokens = 40 });
Console.WriteLine($"seeded answer: {first.Text}");
Console.WriteLine($"tokens: {first.Usage?.InputTokenCount} in ({first.Usage?.CachedInputTokenCount} from cache), {first.Usage?.OutputTokenCount} out");
