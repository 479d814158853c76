using Llamero.Gguf;

namespace Llamero.Tests.Oracle;

public class GgmlNativeTests
{
    [Fact]
    public void Oracle_round_trips_a_q8_0_row()
    {
        var x = Enumerable.Range(0, 64).Select(i => (float)Math.Sin(i)).ToArray();
        var q = new byte[2 * 34];
        GgmlNative.QuantizeRowReference(GgmlType.Q8_0, x, q);
        var y = new float[64];
        GgmlNative.DequantizeRow(GgmlType.Q8_0, q, y);
        for (var i = 0; i < x.Length; i++)
            Assert.Equal(x[i], y[i], 0.01f);
    }
}
