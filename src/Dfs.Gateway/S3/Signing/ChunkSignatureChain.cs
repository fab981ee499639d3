using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// The chain of signatures of a streaming upload: each chunk's signature covers the previous one (the first covers the
/// seed, the request's own signature), so chunks can be neither altered, dropped nor reordered; the trailer's closes it.
/// </summary>
internal sealed class ChunkSignatureChain
{
    private const string ChunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD";
    private const string TrailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER";

    private readonly byte[] key;
    private readonly byte[] chunkPrefix;
    private readonly byte[] trailerPrefix;
    /// <summary>The hex of the last verified signature, as the client sent it (it chains what it sent).</summary>
    private readonly byte[] previous = new byte[64];
    /// <summary>Holds one string to sign: prefix, previous signature, and one or two hash lines.</summary>
    private readonly byte[] scratch;

    public ChunkSignatureChain(byte[] signingKey, SigV4Claim claim)
    {
        key = signingKey;
        var common = $"\n{claim.RequestTime.UtcDateTime.ToString(SigV4.TimeFormat, CultureInfo.InvariantCulture)}\n{claim.Scope.CredentialScope}\n";
        chunkPrefix = Encoding.UTF8.GetBytes(ChunkAlgorithm + common);
        trailerPrefix = Encoding.UTF8.GetBytes(TrailerAlgorithm + common);
        if (Encoding.ASCII.GetBytes(claim.Signature, previous) != 64)
            throw S3Exception.SignatureDoesNotMatch();
        scratch = new byte[Math.Max(chunkPrefix.Length, trailerPrefix.Length) + 64 + 1 + 64 + 1 + 64];
    }

    /// <summary>
    /// Checks a chunk's signature: HMAC over "AWS4-HMAC-SHA256-PAYLOAD\n" + time + "\n" + scope + "\n" + previous + "\n" +
    /// hex(SHA-256("")) + "\n" + hex(SHA-256(chunk)). On success it becomes the previous signature.
    /// </summary>
    public bool VerifyChunk(ReadOnlySpan<byte> claimedHex, ReadOnlySpan<byte> chunkSha256)
    {
        var length = Start(chunkPrefix);
        length += Encoding.ASCII.GetBytes(SigV4.EmptySha256, scratch.AsSpan(length));
        scratch[length++] = (byte)'\n';
        length += SigV4.WriteHex(chunkSha256, scratch.AsSpan(length));
        return Check(claimedHex, length);
    }

    /// <summary>Checks the trailer's signature: "AWS4-HMAC-SHA256-TRAILER\n" + time + "\n" + scope + "\n" + previous + "\n" + hex(SHA-256(trailer lines)).</summary>
    public bool VerifyTrailer(ReadOnlySpan<byte> claimedHex, ReadOnlySpan<byte> trailerSha256)
    {
        var length = Start(trailerPrefix);
        length += SigV4.WriteHex(trailerSha256, scratch.AsSpan(length));
        return Check(claimedHex, length);
    }

    private int Start(byte[] prefix)
    {
        prefix.CopyTo(scratch, 0);
        previous.CopyTo(scratch, prefix.Length);
        scratch[prefix.Length + 64] = (byte)'\n';
        return prefix.Length + 65;
    }

    private bool Check(ReadOnlySpan<byte> claimedHex, int length)
    {
        Span<byte> claimed = stackalloc byte[32];
        Span<char> hexChars = stackalloc char[64];
        if (claimedHex.Length != 64)
            return false;
        for (var i = 0; i < 64; i++)
            hexChars[i] = (char)claimedHex[i];
        if (!SigV4.TryDecodeHex(hexChars, claimed))
            return false;
        Span<byte> computed = stackalloc byte[32];
        HMACSHA256.HashData(key, scratch.AsSpan(0, length), computed);
        if (!CryptographicOperations.FixedTimeEquals(computed, claimed))
            return false;
        claimedHex.CopyTo(previous);
        return true;
    }
}
