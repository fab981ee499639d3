using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dfs.Contracts.Security;

/// <summary>
/// Trust for the gateway's HTTPS certificate when it is self-signed or from a private CA: a certificate the system
/// trusts is accepted as usual, and so is the one certificate whose SHA-256 thumbprint is pinned (whatever its
/// chain or host name), which is how the cluster's own processes trust the certificate the AppHost was given.
/// </summary>
public static class CertificatePinning
{
    /// <summary>Upper-case hex SHA-256 of the certificate's DER bytes (what Dfs:Cluster:GatewayCertificateThumbprint holds).</summary>
    public static string Sha256Thumbprint(X509Certificate certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>"AB:CD ef" → "ABCDEF"; null when it is not 64 hex digits.</summary>
    public static string? NormalizeThumbprint(string? thumbprint)
    {
        if (string.IsNullOrWhiteSpace(thumbprint)) return null;
        var hex = new string(thumbprint.Where(c => c is not (':' or ' ' or '-')).ToArray()).ToUpperInvariant();
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit) ? hex : null;
    }

    /// <summary>A validation callback: the system's verdict, or else a match of the pinned thumbprint (null: none pinned).</summary>
    public static RemoteCertificateValidationCallback Validator(string? pinnedThumbprint)
    {
        var pinned = NormalizeThumbprint(pinnedThumbprint);
        return (_, certificate, _, errors) =>
            errors == SslPolicyErrors.None
            || (pinned is not null && certificate is not null
                && string.Equals(Sha256Thumbprint(certificate), pinned, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Makes <paramref name="handler"/> also accept the pinned certificate; no-op without a thumbprint.</summary>
    public static SocketsHttpHandler TrustPinned(this SocketsHttpHandler handler, string? pinnedThumbprint)
    {
        if (NormalizeThumbprint(pinnedThumbprint) is null) return handler;
        handler.SslOptions.RemoteCertificateValidationCallback = Validator(pinnedThumbprint);
        return handler;
    }
}
