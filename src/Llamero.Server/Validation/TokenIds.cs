using Llamero.Server.Errors;

namespace Llamero.Server.Validation;

/// <summary>Checks token ids supplied by a client.</summary>
internal static class TokenIds
{
    /// <summary>400 naming the first id outside 0..vocabSize-1.</summary>
    public static void Check(IReadOnlyList<int> ids, int vocabSize, string param)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] < 0 || ids[i] >= vocabSize)
                throw ApiException.BadRequest($"{param}[{i}] = {ids[i]} is not a token id: ids run from 0 to {vocabSize - 1}.", param, "invalid_value");
        }
    }
}
