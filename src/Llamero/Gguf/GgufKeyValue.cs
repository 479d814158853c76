namespace Llamero.Gguf;

/// <summary>
/// One metadata entry. <paramref name="Value"/> is the .NET value of <paramref name="Type"/>
/// (see <see cref="GgufValueTypes.ClrType"/>): a <see cref="GgufArray"/> when <paramref name="Type"/> is Array.
/// </summary>
public sealed record GgufKeyValue(string Key, GgufValueType Type, object Value)
{
    /// <summary>A string entry.</summary>
    public static GgufKeyValue Of(string key, string value) => new(key, GgufValueType.String, value);

    /// <summary>A UInt32 entry.</summary>
    public static GgufKeyValue Of(string key, uint value) => new(key, GgufValueType.UInt32, value);

    /// <summary>An Int32 entry.</summary>
    public static GgufKeyValue Of(string key, int value) => new(key, GgufValueType.Int32, value);

    /// <summary>A UInt16 entry.</summary>
    public static GgufKeyValue Of(string key, ushort value) => new(key, GgufValueType.UInt16, value);

    /// <summary>A UInt64 entry.</summary>
    public static GgufKeyValue Of(string key, ulong value) => new(key, GgufValueType.UInt64, value);

    /// <summary>A Float32 entry.</summary>
    public static GgufKeyValue Of(string key, float value) => new(key, GgufValueType.Float32, value);

    /// <summary>A Bool entry.</summary>
    public static GgufKeyValue Of(string key, bool value) => new(key, GgufValueType.Bool, value);

    /// <summary>An array entry.</summary>
    public static GgufKeyValue Of(string key, GgufArray value) => new(key, GgufValueType.Array, value);
}
