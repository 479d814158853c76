using Llamero.Chat;

namespace Llamero.Tests.Chat;

public class ChatTemplateDetectionTests
{
    // Jinja chat templates as GGUF files carry them in tokenizer.chat_template (abridged to their distinctive parts).
    public static TheoryData<string, string> Jinja() => new()
    {
        { "chatml", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}" },
        { "llama2-sys", "{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' %}{% endif %}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}{% endfor %}" },
        { "llama2-sys-bos", "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content + ' [/INST]' }}{% endif %}" },
        { "mistral-v1", "{%- if messages[0]['role'] == 'system' %}{{- ' [INST] ' + system_message }}{%- endif %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}{{- ' [INST] ' + system_message + '\\n\\n' }}{# ' [INST] ' + system_message #}" },
        { "mistral-v7", "{{- '[SYSTEM_PROMPT]' + system_message + '[/SYSTEM_PROMPT]' }}{{- '[INST]' + message['content'] + '[/INST]' }}" },
        { "zephyr", "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}{% endif %}{% endfor %}<|endoftext|>" },
        { "phi3", "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}" },
        { "gemma", "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}" },
        { "vicuna", "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + '\\n' }}{% else %}{{ 'ASSISTANT: ' + message['content'] + '</s>\\n' }}{% endif %}{% endfor %}" },
        { "vicuna-orca", "{% for message in messages %}{% if message['role'] == 'system' %}{{ 'SYSTEM: ' + message['content'] + '\\n' }}{% elif message['role'] == 'user' %}{{ 'USER: ' + message['content'] + '\\n' }}{% else %}{{ 'ASSISTANT: ' + message['content'] + '</s>\\n' }}{% endif %}{% endfor %}" },
        { "deepseek", "{% for message in messages %}{% if message['role'] == 'user' %}{{'### Instruction:\\n' + message['content'] + '\\n'}}{% else %}{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}{% endif %}{% endfor %}" },
        { "llama3", "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}" },
    };

    [Theory]
    [MemberData(nameof(Jinja))]
    public void RecognisesTheTemplateLlamaCppRecognises(string expectedName, string jinja)
    {
        var template = ChatTemplates.Detect(jinja);
        Assert.NotNull(template);
        Assert.Equal(expectedName, template.Name);

        // llama.cpp, given the same Jinja text, detects the same format and renders the same prompt.
        ChatMessage[] messages = [ChatMessage.System("sys"), ChatMessage.User("hi"), ChatMessage.Assistant("hello"), ChatMessage.User("again")];
        Assert.Equal(NativeChatTemplate.Apply(jinja, messages, true), template.Render(messages, true));
    }

    [Theory]
    [InlineData("{% for message in messages %}{{ message['content'] }}{% endfor %}")]
    [InlineData("{{'<|im_start|>' + role + '<|im_sep|>'}}")] // phi4: ChatML-like, not ChatML
    [InlineData("")]
    public void UnknownTemplatesGiveNull(string jinja) => Assert.Null(ChatTemplates.Detect(jinja));

    [Fact]
    public void TemplateNamesAreAcceptedAsIs() => Assert.Equal("zephyr", ChatTemplates.Detect("zephyr")?.Name);
}
