using System.Runtime.InteropServices;
using System.Text;
using Llamero.Chat;

namespace Llamero.Tests.Chat;

/// <summary>llama.cpp's <c>llama_chat_apply_template</c> from the LLamaSharp.Backend.Cpu package (test oracle only).</summary>
internal static unsafe class NativeChatTemplate
{
    private static readonly nint Lib = NativeLibrary.Load(Path.Combine(
        AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx2", "libllama.so"));

    [StructLayout(LayoutKind.Sequential)]
    private struct NativeMessage
    {
        public nint Role;
        public nint Content;
    }

    /// <summary>
    /// Renders <paramref name="messages"/> with the template <paramref name="template"/> (a name such as
    /// <c>chatml</c>, or a Jinja string llama.cpp recognises); null when llama.cpp does not know it.
    /// </summary>
    public static string? Apply(string template, IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        var apply = (delegate* unmanaged<byte*, NativeMessage*, nuint, byte, byte*, int, int>)
            NativeLibrary.GetExport(Lib, "llama_chat_apply_template");
        var strings = new List<nint>();
        try
        {
            var native = new NativeMessage[messages.Count];
            for (var i = 0; i < messages.Count; i++)
            {
                native[i].Role = Utf8(messages[i].Role, strings);
                native[i].Content = Utf8(messages[i].Content, strings);
            }
            var tmpl = Utf8(template, strings);
            var capacity = 1024;
            while (true)
            {
                var buffer = new byte[capacity];
                int n;
                fixed (NativeMessage* m = native)
                fixed (byte* b = buffer)
                    n = apply((byte*)tmpl, m, (nuint)native.Length, addAssistant ? (byte)1 : (byte)0, b, buffer.Length);
                if (n < 0)
                    return null;
                if (n <= capacity)
                    return Encoding.UTF8.GetString(buffer, 0, n);
                capacity = n;
            }
        }
        finally
        {
            foreach (var p in strings)
                Marshal.FreeHGlobal(p);
        }
    }

    private static nint Utf8(string s, List<nint> owned)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var p = Marshal.AllocHGlobal(bytes.Length + 1);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        Marshal.WriteByte(p, bytes.Length, 0);
        owned.Add(p);
        return p;
    }
}
