using System.Text;
using Llamero.Server.Scheduling;

namespace Llamero.Server.Dtos;

/// <summary>Turns scheduler logprobs into the chat and legacy completion layouts.</summary>
internal static class LogprobMapper
{
    /// <summary>Chat layout: one object per token with its top alternatives.</summary>
    public static ChatLogprobs Chat(IEnumerable<TokenLogprob> tokens) => new()
    {
        Content = tokens.Select(t => new TokenLogprobDto
        {
            Token = t.Token,
            Logprob = t.Logprob,
            Bytes = Bytes(t.Token),
            TopLogprobs = t.Top.Select(a => new TopLogprobDto { Token = a.Token, Logprob = a.Logprob, Bytes = Bytes(a.Token) }).ToList(),
        }).ToList(),
    };

    /// <summary>Legacy completions layout: parallel arrays, offsets counted from <paramref name="startOffset"/>.</summary>
    public static CompletionLogprobs Completion(IEnumerable<TokenLogprob> tokens, int startOffset)
    {
        var result = new CompletionLogprobs { Tokens = [], TokenLogprobs = [], TopLogprobs = [], TextOffset = [] };
        var offset = startOffset;
        foreach (var t in tokens)
        {
            result.Tokens.Add(t.Token);
            result.TokenLogprobs.Add(t.Logprob);
            var top = new Dictionary<string, float>();
            foreach (var (token, logprob) in t.Top)
                top.TryAdd(token, logprob);
            result.TopLogprobs.Add(top);
            result.TextOffset.Add(offset);
            offset += t.Token.Length;
        }
        return result;
    }

    private static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
}
