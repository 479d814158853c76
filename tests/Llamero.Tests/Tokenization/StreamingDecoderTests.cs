using System.Text;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

public class StreamingDecoderTests
{
    private static Tokenizer Llama2 => SentencePieceTests.Llama2.Value;

    private static int ByteToken(byte b) => 3 + b; // <0x00> is id 3 in the Llama-2 vocabulary

    [Fact]
    public void WaitsForEveryByteOfACharacter()
    {
        var decoder = Llama2.CreateStreamingDecoder();
        var llama = Encoding.UTF8.GetBytes("🦙"); // F0 9F A6 99, a surrogate pair in UTF-16
        Assert.Equal("", decoder.Append(ByteToken(llama[0])));
        Assert.Equal("", decoder.Append(ByteToken(llama[1])));
        Assert.Equal("", decoder.Append(ByteToken(llama[2])));
        Assert.Equal("🦙", decoder.Append(ByteToken(llama[3])));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void EmitsCompleteCharactersBeforeAPartialOne()
    {
        var decoder = Llama2.CreateStreamingDecoder();
        var euro = Encoding.UTF8.GetBytes("€"); // E2 82 AC
        Assert.Equal(" Hello", decoder.Append(15043));
        Assert.Equal("", decoder.Append(ByteToken(euro[0])));
        Assert.Equal("", decoder.Append(ByteToken(euro[1])));
        Assert.Equal("€", decoder.Append(ByteToken(euro[2])));
        Assert.Equal(" world", decoder.Append(3186));
    }

    [Fact]
    public void NeverReturnsHalfACharacterOnAnySplit()
    {
        var tokenizer = Llama2;
        var random = new Random(99);
        for (var i = 0; i < 100; i++)
        {
            var text = RandomText.Next(random, random.Next(1, 30));
            var decoder = tokenizer.CreateStreamingDecoder(stripLeadingSpace: true);
            var all = new StringBuilder();
            foreach (var id in tokenizer.Encode(text))
            {
                var piece = decoder.Append(id);
                Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "half a surrogate pair");
                Assert.DoesNotContain('\uFFFD', piece);
                all.Append(piece);
            }
            all.Append(decoder.Flush());
            Assert.Equal(text, all.ToString());
        }
    }

    [Fact]
    public void FlushReplacesAnUnfinishedCharacter()
    {
        var decoder = Llama2.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(ByteToken(0xE2)));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void InvalidBytesBecomeReplacementCharacters()
    {
        var decoder = Llama2.CreateStreamingDecoder();
        Assert.Equal("\uFFFD", decoder.Append(ByteToken(0xFF)));
        Assert.Equal("\uFFFDA", decoder.Append(ByteToken(0xC3)) + decoder.Append(ByteToken((byte)'A')));
    }

    [Fact]
    public void ControlTokensAreInvisibleUnlessRendered()
    {
        var decoder = Llama2.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(2));
        var rendering = Llama2.CreateStreamingDecoder(renderSpecial: true);
        Assert.Equal("</s>", rendering.Append(2));
    }
}
