using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth.AccessKeys;

/// <summary>
/// Seals access keys' secrets with AES-256-GCM under Dfs:Gateway:AccessKeyMasterKey. The key id is the associated data,
/// so a sealed secret copied onto another key's row does not open there.
/// </summary>
public sealed class AccessKeyCipher(IOptions<GatewayOptions> options)
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly byte[]? _key = options.Value.AccessKeyMasterKeyBytes();

    /// <summary>False when the gateway has no master key: no key can be created or used then.</summary>
    public bool IsAvailable => _key is not null;

    /// <summary>Base64 of nonce | ciphertext | tag.</summary>
    public string Seal(string keyId, string secret)
    {
        var key = _key ?? throw new InvalidOperationException("No access key master key is configured.");
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes, plain.Length), sealedBytes.AsSpan(NonceBytes + plain.Length), Encoding.UTF8.GetBytes(keyId));
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The secret, or null when it does not open: no master key, another master key, another key's row, or tampered.</summary>
    public string? Open(string keyId, string sealedSecret)
    {
        if (_key is null) return null;
        var sealedBytes = new byte[sealedSecret.Length];
        if (!Convert.TryFromBase64String(sealedSecret, sealedBytes, out var length) || length < NonceBytes + TagBytes) return null;
        var cipherLength = length - NonceBytes - TagBytes;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(_key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, cipherLength),
                sealedBytes.AsSpan(NonceBytes + cipherLength, TagBytes), plain, Encoding.UTF8.GetBytes(keyId));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(plain);
    }
}
