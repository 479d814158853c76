using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

// A minimal xunit runner for a machine that has the .NET runtime but not the SDK, where `dotnet test` cannot run:
// the lent machine with an AVX-512 CPU on which the kernels' 512-bit paths are proven (the tests there iterate
// every SimdLevel the CPU supports, as they do here). It runs [Fact] and [Theory] (InlineData, MemberData) methods
// of Llamero.Tests whose full name starts with one of the --filter prefixes, one fresh class instance per case as
// xunit does, classes in parallel. Usage:
//   dotnet Llamero.DeviceCheck.dll [--filter Llamero.Tests.Quants]... [--parallel N] [--list]
// Exit code 0 when every selected test passed.

var filters = new List<string>();
var parallel = Environment.ProcessorCount;
var listOnly = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--filter" when i + 1 < args.Length: filters.Add(args[++i]); break;
        case "--parallel" when i + 1 < args.Length: parallel = int.Parse(args[++i]); break;
        case "--list": listOnly = true; break;
        default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2;
    }
}

var assembly = typeof(Llamero.Tests.Support.TestPaths).Assembly;
var cases = Llamero.DeviceCheck.TestDiscovery.Find(assembly, filters);
Console.WriteLine($"{cases.Count} test cases selected ({string.Join(", ", filters.DefaultIfEmpty("all"))})");
if (listOnly)
{
    foreach (var c in cases)
        Console.WriteLine(c.DisplayName);
    return 0;
}

var failures = new ConcurrentBag<(string Name, string Message)>();
int passed = 0, skipped = 0;
var clock = Stopwatch.StartNew();
var byClass = cases.GroupBy(c => c.Method.DeclaringType!).ToList();
Parallel.ForEach(byClass, new ParallelOptions { MaxDegreeOfParallelism = parallel }, group =>
{
    using var fixtures = new Llamero.DeviceCheck.ClassFixtures(group.Key);
    foreach (var testCase in group)
    {
        if (testCase.SkipReason is not null)
        {
            Interlocked.Increment(ref skipped);
            continue;
        }
        var error = Llamero.DeviceCheck.TestInvoker.Run(testCase, fixtures);
        if (error is null)
            Interlocked.Increment(ref passed);
        else
        {
            failures.Add((testCase.DisplayName, error));
            Console.WriteLine($"FAIL {testCase.DisplayName}\n{error}");
        }
    }
});
Console.WriteLine($"{passed} passed, {failures.Count} failed, {skipped} skipped in {clock.Elapsed.TotalSeconds:F1} s");
return failures.IsEmpty ? 0 : 1;

namespace Llamero.DeviceCheck
{
    /// <summary>One test method with one row of arguments (none for a fact).</summary>
    internal sealed record TestCase(MethodInfo Method, object?[] Arguments, string DisplayName, string? SkipReason);

    /// <summary>Finds the facts and theory rows of an assembly, as xunit's discovery does for the attributes used here.</summary>
    internal static class TestDiscovery
    {
        public static List<TestCase> Find(Assembly assembly, IReadOnlyList<string> prefixes)
        {
            var cases = new List<TestCase>();
            foreach (var type in assembly.GetTypes().Where(t => t.IsClass && (!t.IsAbstract || t.IsSealed) && (t.IsPublic || t.IsNestedPublic)))
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
                {
                    var fact = method.GetCustomAttribute<FactAttribute>();
                    var name = $"{type.FullName}.{method.Name}";
                    if (fact is null || (prefixes.Count > 0 && !prefixes.Any(name.StartsWith)))
                        continue;
                    if (fact is not TheoryAttribute)
                    {
                        cases.Add(new TestCase(method, [], name, fact.Skip));
                        continue;
                    }
                    foreach (var data in method.GetCustomAttributes<DataAttribute>())
                    {
                        foreach (var row in data.GetData(method))
                            cases.Add(new TestCase(method, row, $"{name}({string.Join(", ", row.Select(Show))})", fact.Skip ?? data.Skip));
                    }
                }
            }
            return cases;
        }

        private static string Show(object? value) => value switch
        {
            null => "null",
            string s => '"' + (s.Length > 40 ? s[..40] + "…" : s) + '"',
            Array a => $"{a.GetType().GetElementType()!.Name}[{a.Length}]",
            _ => value.ToString() ?? "",
        };
    }

    /// <summary>Runs one case on a fresh instance of its class; returns null on success, else what failed.</summary>
    internal static class TestInvoker
    {
        public static string? Run(TestCase testCase, ClassFixtures fixtures)
        {
            var method = testCase.Method;
            var output = new BufferedOutput();
            object? instance = null;
            try
            {
                if (!method.IsStatic)
                    instance = Create(method.DeclaringType!, output, fixtures);
                var result = method.Invoke(instance, Bind(method.GetParameters(), testCase.Arguments));
                if (result is Task task)
                    task.GetAwaiter().GetResult();
                else if (result is ValueTask valueTask)
                    valueTask.AsTask().GetAwaiter().GetResult();
                return null;
            }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                return $"  {inner.GetType().Name}: {inner.Message}\n  {string.Join("\n  ", (inner.StackTrace ?? "").Split('\n').Take(6))}{output.Tail()}";
            }
            finally
            {
                (instance as IDisposable)?.Dispose();
                if (instance is IAsyncDisposable asyncDisposable)
                    asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }

        private static object Create(Type type, ITestOutputHelper output, ClassFixtures fixtures)
        {
            var constructor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
            var arguments = constructor.GetParameters()
                .Select(p => p.ParameterType == typeof(ITestOutputHelper) ? output : fixtures.Get(p.ParameterType))
                .ToArray();
            return constructor.Invoke(arguments);
        }

        // xunit's conversions for the rows used here: missing optional arguments take their defaults, and a value of
        // another numeric or enum type is converted to the parameter's type.
        private static object?[] Bind(ParameterInfo[] parameters, object?[] row)
        {
            var bound = new object?[parameters.Length];
            for (var i = 0; i < parameters.Length; i++)
            {
                var target = parameters[i].ParameterType;
                if (i >= row.Length)
                    bound[i] = parameters[i].HasDefaultValue ? parameters[i].DefaultValue : throw new ArgumentException($"no value for parameter {parameters[i].Name}");
                else if (row[i] is null || target.IsInstanceOfType(row[i]))
                    bound[i] = row[i];
                else if (target.IsEnum)
                    bound[i] = Enum.ToObject(target, row[i]!);
                else
                    bound[i] = Convert.ChangeType(row[i], Nullable.GetUnderlyingType(target) ?? target, System.Globalization.CultureInfo.InvariantCulture);
            }
            return bound;
        }
    }

    /// <summary>The <c>IClassFixture&lt;T&gt;</c> objects of one test class: made on first use, shared by its cases, disposed after them.</summary>
    internal sealed class ClassFixtures(Type testClass) : IDisposable
    {
        private readonly Dictionary<Type, object> _made = [];

        public object Get(Type type)
        {
            if (!testClass.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>) && i.GetGenericArguments()[0] == type))
                throw new NotSupportedException($"{testClass.Name}: constructor parameter {type.Name} is neither ITestOutputHelper nor a class fixture");
            lock (_made)
            {
                if (!_made.TryGetValue(type, out var fixture))
                    _made[type] = fixture = Activator.CreateInstance(type)!;
                return fixture;
            }
        }

        public void Dispose()
        {
            foreach (var fixture in _made.Values)
                (fixture as IDisposable)?.Dispose();
        }
    }

    /// <summary>What a test wrote through <see cref="ITestOutputHelper"/>, shown only when it fails.</summary>
    internal sealed class BufferedOutput : ITestOutputHelper
    {
        private readonly System.Text.StringBuilder _text = new();

        public void WriteLine(string message)
        {
            lock (_text)
                _text.AppendLine(message);
        }

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public string Tail()
        {
            lock (_text)
                return _text.Length == 0 ? "" : "\n  output: " + (_text.Length > 2000 ? _text.ToString(_text.Length - 2000, 2000) : _text.ToString());
        }
    }
}
