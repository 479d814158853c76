using System.Runtime.CompilerServices;

namespace Llamero.Quants;

/// <summary>4 bytes inside a block (Q5_0/Q5_1's fifth bits).</summary>
[InlineArray(4)]
public struct Bytes4
{
    private byte _element;
}

/// <summary>16 bytes inside a block (32 packed nibbles).</summary>
[InlineArray(16)]
public struct Bytes16
{
    private byte _element;
}

/// <summary>32 signed bytes inside a block (Q8_0/Q8_1 quants).</summary>
[InlineArray(32)]
public struct SBytes32
{
    private sbyte _element;
}
