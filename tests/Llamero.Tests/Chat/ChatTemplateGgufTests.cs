using Llamero.Chat;
using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Chat;

public class ChatTemplateGgufTests
{
    [Fact]
    public void FileWithoutTemplateGivesNull()
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        Assert.Null(ChatTemplates.FromGguf(file));
    }

    [Theory]
    [InlineData("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}", "chatml")]
    [InlineData("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}", "llama3")]
    [InlineData("{{ message['content'] }}", null)]
    public void TemplateKeyIsRecognised(string jinja, string? expected)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "chat.gguf");
        using (var writer = new GgufWriter(path))
        {
            writer.AddMetadata(GgufKeyValue.Of(GgufKeys.General.Architecture, "llama"));
            writer.AddMetadata(GgufKeyValue.Of(GgufKeys.Tokenizer.ChatTemplate, jinja));
            writer.Commit();
        }
        using var file = GgufFile.Open(path);
        Assert.Equal(expected, ChatTemplates.FromGguf(file)?.Name);
    }
}
