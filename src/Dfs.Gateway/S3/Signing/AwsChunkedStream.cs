using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// The payload of an aws-chunked body: "HEX-SIZE[;chunk-signature=SIG]\r\n" DATA "\r\n" … up to a zero-size chunk, then
/// trailing headers ("x-amz-checksum-crc32:…\r\n", and "x-amz-trailer-signature:…" when signed) and an empty line.
/// Signed chunks are checked against the chain that starts at the request's seed signature: a chunk's bytes reach the
/// reader before its signature is checked (chunks can be megabytes), but the check comes before any byte of the next
/// chunk and before the end of the stream, and callers commit only once they have read to the end.
/// </summary>
public sealed class AwsChunkedStream : Stream
{
    private const int MaxLineBytes = 4096;
    private const long MaxChunkBytes = 1L << 32;
    private readonly Stream _inner;
    private readonly byte[]? _signingKey;
    private readonly SigV4Claim? _claim;
    private readonly bool _trailer;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private string? _previousSignature;
    private string? _chunkSignature;
    private IncrementalHash? _chunkHash;
    private long _remaining;
    private bool _inChunk;
    private bool _done;
    private readonly Dictionary<string, string> _trailers = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="signingKey">With <paramref name="claim"/>: chunks (and the trailer) are signed and checked; null: unsigned chunks.</param>
    public AwsChunkedStream(Stream inner, SigV4Claim? claim, byte[]? signingKey, bool trailer)
    {
        _inner = inner;
        _claim = claim;
        _signingKey = signingKey;
        _trailer = trailer;
        _previousSignature = claim?.Signature;
        if (signingKey is not null) _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    /// <summary>The trailing headers, once the stream has been read to its end.</summary>
    public IReadOnlyDictionary<string, string> Trailers => _trailers;

    private bool Signed => _signingKey is not null && _claim is not null;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default)
    {
        if (destination.Length == 0) return 0;
        while (true)
        {
            if (_done) return 0;
            if (_inChunk && _remaining > 0)
            {
                if (_start == _end && !await FillAsync(ct)) throw Truncated();
                var count = (int)Math.Min(Math.Min(_remaining, _end - _start), destination.Length);
                var span = _buffer.AsSpan(_start, count);
                span.CopyTo(destination.Span);
                _chunkHash?.AppendData(span);
                _start += count;
                _remaining -= count;
                return count;
            }
            if (_inChunk)
            {
                // The chunk's data ends with CRLF; then its signature is due.
                if (await ReadLineAsync(ct) is not { Length: 0 }) throw S3Exception.IncompleteBody("A chunk of the aws-chunked body is not followed by CRLF.");
                VerifyChunk();
                _inChunk = false;
                continue;
            }
            var header = await ReadLineAsync(ct) ?? throw Truncated();
            var (size, signature) = ParseChunkHeader(header);
            _chunkSignature = signature;
            if (size == 0)
            {
                VerifyChunk();
                await ReadTrailerAsync(ct);
                _done = true;
                return 0;
            }
            _remaining = size;
            _inChunk = true;
        }
    }

    private (long Size, string? Signature) ParseChunkHeader(string line)
    {
        var semicolon = line.IndexOf(';');
        var hex = semicolon < 0 ? line : line[..semicolon];
        if (hex.Length is 0 or > 16 || !long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0 || size > MaxChunkBytes)
            throw S3Exception.IncompleteBody($"An aws-chunked chunk size is not valid hex: '{Short(hex)}'.");
        string? signature = null;
        if (semicolon >= 0)
        {
            foreach (var extension in line[(semicolon + 1)..].Split(';'))
                if (extension.StartsWith("chunk-signature=", StringComparison.Ordinal)) signature = extension["chunk-signature=".Length..];
        }
        if (Signed && signature is null) throw S3Exception.SignatureDoesNotMatch("A chunk of the signed aws-chunked body has no chunk-signature.");
        return (size, signature);
    }

    private void VerifyChunk()
    {
        if (!Signed) return;
        var dataHash = Convert.ToHexStringLower(_chunkHash!.GetHashAndReset());
        var stringToSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{_claim!.AmzDate}\n{_claim.Scope.Text}\n{_previousSignature}\n{SigV4.EmptySha256}\n{dataHash}";
        var expected = Convert.ToHexStringLower(SigV4.Hmac(_signingKey!, stringToSign));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(_chunkSignature ?? "")))
            throw S3Exception.SignatureDoesNotMatch("The signature of a chunk of the aws-chunked body does not match its bytes.");
        _previousSignature = expected;
    }

    private async Task ReadTrailerAsync(CancellationToken ct)
    {
        var signed = new StringBuilder();
        string? trailerSignature = null;
        while (true)
        {
            var line = await ReadLineAsync(ct);
            // Some clients end the body right after the last chunk (or the trailer) without the final empty line.
            if (line is null || line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon <= 0) throw S3Exception.IncompleteBody($"A trailing header of the aws-chunked body is malformed: '{Short(line)}'.");
            var name = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            if (name == "x-amz-trailer-signature") trailerSignature = value;
            else
            {
                _trailers[name] = value;
                signed.Append(name).Append(':').Append(value).Append('\n');
            }
        }
        if (_trailers.Count > 0 && !_trailer) throw S3Exception.InvalidRequest("The aws-chunked body has trailing headers but the request announced none (x-amz-trailer).");
        if (Signed && _trailer)
        {
            var stringToSign = $"AWS4-HMAC-SHA256-TRAILER\n{_claim!.AmzDate}\n{_claim.Scope.Text}\n{_previousSignature}\n{SigV4.Sha256Hex(signed.ToString())}";
            var expected = Convert.ToHexStringLower(SigV4.Hmac(_signingKey!, stringToSign));
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(trailerSignature ?? "")))
                throw S3Exception.SignatureDoesNotMatch("The signature of the aws-chunked body's trailer does not match it.");
        }
    }

    /// <summary>A CRLF-ended line (without it); null at the end of the body before any byte of it.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                if (line.Count == 0) return null;
                throw Truncated();
            }
            var span = _buffer.AsSpan(_start, _end - _start);
            var newline = span.IndexOf((byte)'\n');
            var take = newline < 0 ? span.Length : newline + 1;
            line.AddRange(span[..take]);
            _start += take;
            if (line.Count > MaxLineBytes) throw S3Exception.IncompleteBody("A line of the aws-chunked body is too long.");
            if (newline >= 0)
            {
                if (line.Count < 2 || line[^2] != '\r') throw S3Exception.IncompleteBody("A line of the aws-chunked body does not end with CRLF.");
                return Encoding.ASCII.GetString(line.ToArray(), 0, line.Count - 2);
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _start = 0;
        _end = await _inner.ReadAsync(_buffer, ct);
        return _end > 0;
    }

    private static S3Exception Truncated() => S3Exception.IncompleteBody("The aws-chunked body ended before its last chunk.");

    private static string Short(string value) => value.Length > 60 ? value[..60] + "…" : value;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _chunkHash?.Dispose();
        base.Dispose(disposing);
    }
}
