using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace Dfs.Chaos.Workload;

public enum OpKind { Put, PutIfAbsent, Get, RangeGet, Head, Delete, Move, List }

/// <summary>
/// How an operation ended. <see cref="Unknown"/>: no answer or a 5xx, so it may or may not have taken effect (a write
/// whose acknowledgement was lost); <see cref="Failed"/>: a definite refusal (409, 404), so it took no effect.
/// </summary>
public enum OpOutcome { Ok, Failed, Unknown }

/// <summary>
/// One operation as a client saw it: when it was invoked and when it completed (ms since the run began), what it asked
/// and what it got. For a read, <see cref="ReadWrite"/> names the write whose bytes came back (0: not found).
/// </summary>
public sealed record Op(
    long Id,
    int Client,
    OpKind Kind,
    string Path,
    double Start,
    double End,
    OpOutcome Outcome,
    int Status,
    long WriteId = 0,
    string? To = null,
    long ReadWrite = -1,
    bool BadBytes = false,
    string? Error = null,
    IReadOnlyList<string>? Listed = null)
{
    [JsonIgnore] public bool IsMutation => Kind is OpKind.Put or OpKind.PutIfAbsent or OpKind.Delete or OpKind.Move;
}

/// <summary>Every operation of the run, in completion order, and the content of every write.</summary>
public sealed class History
{
    private readonly ConcurrentQueue<Op> _ops = new();
    private readonly ConcurrentDictionary<long, WriteContent> _writes = new();
    private readonly ConcurrentDictionary<string, WriteContent> _byMd5 = new(StringComparer.OrdinalIgnoreCase);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _nextOp;

    public double Now => _clock.Elapsed.TotalMilliseconds;

    public IReadOnlyList<Op> Ops => [.. _ops];

    public int Count => _ops.Count;

    public IReadOnlyDictionary<long, WriteContent> Writes => _writes;

    public long NextOpId() => Interlocked.Increment(ref _nextOp);

    public void Add(Op op) => _ops.Enqueue(op);

    public WriteContent NewWrite(long writeId, int size)
    {
        var content = new WriteContent(writeId, size);
        _writes[writeId] = content;
        _byMd5[content.Md5Hex] = content;
        return content;
    }

    public WriteContent? Write(long writeId) => _writes.GetValueOrDefault(writeId);

    /// <summary>The write whose whole content has this MD5 (an ETag), if any.</summary>
    public WriteContent? WriteByMd5(string md5Hex) => _byMd5.GetValueOrDefault(md5Hex);
}

/// <summary>
/// The bytes of one write, regenerated from its id whenever needed: a header naming the write (so a read tells which
/// write it returned) and seeded pseudo-random bytes after it. Two writes never share bytes, so a mix of two versions,
/// a torn write or a stray chunk never passes for one of them.
/// </summary>
public sealed class WriteContent
{
    public const int HeaderSize = 24;
    private static readonly ulong Magic = BinaryPrimitives.ReadUInt64LittleEndian("DFSCHAOS"u8);

    public WriteContent(long writeId, int size)
    {
        WriteId = writeId;
        Size = Math.Max(size, HeaderSize);
        var bytes = Bytes();
        Sha256 = SHA256.HashData(bytes);
        Md5Hex = Convert.ToHexStringLower(MD5.HashData(bytes));
    }

    public long WriteId { get; }
    public int Size { get; }
    public byte[] Sha256 { get; }
    public string Md5Hex { get; }

    public byte[] Bytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), WriteId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16), Size);
        // xorshift64*: fast, and a different stream for every write id.
        var state = (ulong)WriteId * 0x9E3779B97F4A7C15UL | 1;
        var span = bytes.AsSpan(HeaderSize);
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < span.Length; i += 8)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            var value = state * 0x2545F4914F6CDD1DUL;
            BinaryPrimitives.WriteUInt64LittleEndian(word, value);
            word[..Math.Min(8, span.Length - i)].CopyTo(span[i..]);
        }
        return bytes;
    }

    /// <summary>The write a body claims to be (by its header), or 0 when the body has no valid header.</summary>
    public static long Claimed(ReadOnlySpan<byte> body) =>
        body.Length >= HeaderSize && BinaryPrimitives.ReadUInt64LittleEndian(body) == Magic ? BinaryPrimitives.ReadInt64LittleEndian(body[8..]) : 0;
}
