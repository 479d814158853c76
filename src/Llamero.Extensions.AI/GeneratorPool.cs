using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Extensions.AI;

/// <summary>
/// Up to N generators (each with its own KV-cache session) shared by concurrent callers. A caller waits for a free
/// one and gets the generator whose cache shares the longest prefix with its prompt, so a follow-up chat turn
/// evaluates only its new tokens.
/// </summary>
internal sealed class GeneratorPool : IDisposable
{
    private readonly Func<IModelSession> _createSession;
    private readonly Tokenizer _tokenizer;
    private readonly SemaphoreSlim _free;
    private readonly List<Generator> _idle = [];
    private readonly List<Generator> _all = [];
    private readonly int _capacity;
    private bool _disposed;

    public GeneratorPool(Func<IModelSession> createSession, Tokenizer tokenizer, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _createSession = createSession;
        _tokenizer = tokenizer;
        _capacity = capacity;
        _free = new SemaphoreSlim(capacity, capacity);
    }

    /// <summary>Waits for a generator; dispose the lease to give it back.</summary>
    public async Task<Lease> RentAsync(IReadOnlyList<int> prompt, CancellationToken cancellation)
    {
        await _free.WaitAsync(cancellation);
        try
        {
            lock (_all)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                Generator? best = _idle.OrderByDescending(g => g.CommonPrefix(prompt)).FirstOrDefault();
                if (best is null || (best.CommonPrefix(prompt) == 0 && _all.Count < _capacity))
                {
                    best = new Generator(_createSession(), _tokenizer);
                    _all.Add(best);
                }
                else
                {
                    _idle.Remove(best);
                }
                return new Lease(this, best);
            }
        }
        catch
        {
            _free.Release();
            throw;
        }
    }

    private void Return(Generator generator)
    {
        lock (_all)
            _idle.Add(generator);
        _free.Release();
    }

    public void Dispose()
    {
        lock (_all)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var generator in _all)
                generator.Session.Dispose();
        }
    }

    /// <summary>A rented generator.</summary>
    internal sealed class Lease(GeneratorPool pool, Generator generator) : IDisposable
    {
        private int _returned;

        public Generator Generator { get; } = generator;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
                pool.Return(Generator);
        }
    }
}
