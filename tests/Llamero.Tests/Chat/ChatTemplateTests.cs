using Llamero.Chat;

namespace Llamero.Tests.Chat;

public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("You are a helpful assistant"),
        ChatMessage.User("Hello"),
        ChatMessage.Assistant("Hi there"),
        ChatMessage.User("Who are you"),
        ChatMessage.Assistant("   I am an assistant   "),
        ChatMessage.User("Another question"),
    ];

    public static TheoryData<string> LlamaCppNames() =>
        new(ChatTemplates.Names.Where(n => n is not "alpaca" and not "orca-vicuna"));

    [Theory]
    [MemberData(nameof(LlamaCppNames))]
    public void RendersExactlyAsLlamaCpp(string name)
    {
        var template = ChatTemplates.Get(name);
        foreach (var messages in new[] { Conversation, Conversation[1..2], Conversation[..2] })
        {
            foreach (var addAssistant in new[] { true, false })
            {
                var expected = NativeChatTemplate.Apply(name, messages, addAssistant);
                Assert.NotNull(expected); // llama.cpp knows every name we expose (but alpaca)
                Assert.Equal(expected, template.Render(messages, addAssistant));
            }
        }
    }

    [Fact]
    public void OrcaVicunaIsSynthiasPromptFormat()
    {
        var template = ChatTemplates.Get("orca-vicuna");
        Assert.Same(ChatTemplates.Get("vicuna-orca"), template);
        var prompt = template.Render([ChatMessage.System("You are Synthia."), ChatMessage.User("Hi!")], addAssistantPrefix: true);
        Assert.Equal("SYSTEM: You are Synthia.\nUSER: Hi!\nASSISTANT:", prompt);

        // A second turn continues after the first answer, which is closed with </s>.
        var twoTurns = template.Render(
            [ChatMessage.System("S"), ChatMessage.User("Q1"), ChatMessage.Assistant("A1"), ChatMessage.User("Q2")], true);
        Assert.Equal("SYSTEM: S\nUSER: Q1\nASSISTANT: A1</s>\nUSER: Q2\nASSISTANT:", twoTurns);
        Assert.Contains("USER:", template.StopStrings);
    }

    [Fact]
    public void AlpacaFollowsTheStanfordPrompt()
    {
        var prompt = ChatTemplates.Get("alpaca").Render(
            [ChatMessage.System("Below is an instruction."), ChatMessage.User("Say hi.")], addAssistantPrefix: true);
        Assert.Equal("Below is an instruction.\n\n### Instruction:\nSay hi.\n\n### Response:\n", prompt);
    }

    [Fact]
    public void StopStringsMarkTheEndOfTheAssistantTurn()
    {
        Assert.Contains("<|im_end|>", ChatTemplates.Get("chatml").StopStrings);
        Assert.Contains("<|eot_id|>", ChatTemplates.Get("llama3").StopStrings);
        Assert.Contains("</s>", ChatTemplates.Get("llama2-sys").StopStrings);
        Assert.Contains("<|endoftext|>", ChatTemplates.Get("zephyr").StopStrings);
        Assert.Contains("### Instruction:", ChatTemplates.Get("alpaca").StopStrings);
    }

    [Fact]
    public void UnknownNameListsTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => ChatTemplates.Get("nope"));
        Assert.Contains("'nope'", ex.Message);
        foreach (var name in new[] { "chatml", "llama2", "orca-vicuna", "vicuna", "alpaca", "zephyr", "llama3" })
            Assert.Contains(name, ex.Message);
    }

    [Fact]
    public void NamesAreCaseInsensitive() => Assert.Same(ChatTemplates.Get("chatml"), ChatTemplates.Get("ChatML"));
}
