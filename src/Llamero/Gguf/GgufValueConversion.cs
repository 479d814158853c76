namespace Llamero.Gguf;

/// <summary>
/// Converts stored metadata values to the type a caller asks for, only where no information is lost:
/// any integer to any integer type that holds its value, Float32 to double, integers to float/double when exact,
/// and arrays element by element (an array already of the asked type is returned as is, not copied).
/// </summary>
internal static class GgufValueConversion
{
    public static bool TryConvert<T>(object value, out T result)
    {
        if (value is T same)
        {
            result = same;
            return true;
        }
        if (TryConvert(value, typeof(T), out var converted))
        {
            result = (T)converted;
            return true;
        }
        result = default!;
        return false;
    }

    private static bool TryConvert(object value, Type target, out object result)
    {
        result = null!;
        if (target.IsArray)
            return value is GgufArray array && TryConvertArray(array, target, out result);
        if (value.GetType() == target)
        {
            result = value;
            return true;
        }
        if (AsInteger(value) is { } integer)
            return FromInteger(integer, target, out result);
        if (value is float f && target == typeof(double))
        {
            result = (double)f;
            return true;
        }
        return false;
    }

    private static bool TryConvertArray(GgufArray array, Type target, out object result)
    {
        if (array.Values.GetType() == target)
        {
            result = array.Values;
            return true;
        }
        result = null!;
        object? converted =
            target == typeof(int[]) ? ConvertElements<int>(array) :
            target == typeof(uint[]) ? ConvertElements<uint>(array) :
            target == typeof(long[]) ? ConvertElements<long>(array) :
            target == typeof(ulong[]) ? ConvertElements<ulong>(array) :
            target == typeof(short[]) ? ConvertElements<short>(array) :
            target == typeof(ushort[]) ? ConvertElements<ushort>(array) :
            target == typeof(byte[]) ? ConvertElements<byte>(array) :
            target == typeof(sbyte[]) ? ConvertElements<sbyte>(array) :
            target == typeof(float[]) ? ConvertElements<float>(array) :
            target == typeof(double[]) ? ConvertElements<double>(array) :
            null;
        if (converted is null)
            return false;
        result = converted;
        return true;
    }

    private static TElement[]? ConvertElements<TElement>(GgufArray array)
    {
        var output = new TElement[array.Count];
        for (var i = 0; i < output.Length; i++)
        {
            if (!TryConvert(array.Values.GetValue(i)!, typeof(TElement), out var element))
                return null;
            output[i] = (TElement)element;
        }
        return output;
    }

    private static Int128? AsInteger(object value) => value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => v,
        long v => v,
        _ => null,
    };

    private static bool FromInteger(Int128 v, Type target, out object result)
    {
        result = null!;
        if (target == typeof(int) && v >= int.MinValue && v <= int.MaxValue) result = (int)v;
        else if (target == typeof(uint) && v >= uint.MinValue && v <= uint.MaxValue) result = (uint)v;
        else if (target == typeof(long) && v >= long.MinValue && v <= long.MaxValue) result = (long)v;
        else if (target == typeof(ulong) && v >= ulong.MinValue && v <= ulong.MaxValue) result = (ulong)v;
        else if (target == typeof(short) && v >= short.MinValue && v <= short.MaxValue) result = (short)v;
        else if (target == typeof(ushort) && v >= ushort.MinValue && v <= ushort.MaxValue) result = (ushort)v;
        else if (target == typeof(byte) && v >= byte.MinValue && v <= byte.MaxValue) result = (byte)v;
        else if (target == typeof(sbyte) && v >= sbyte.MinValue && v <= sbyte.MaxValue) result = (sbyte)v;
        else if (target == typeof(double) && Int128.Abs(v) <= (Int128)1 << 53) result = (double)v;
        else if (target == typeof(float) && Int128.Abs(v) <= 1 << 24) result = (float)v;
        return result is not null;
    }
}
