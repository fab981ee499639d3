using System.ComponentModel.DataAnnotations;

namespace Dfs.Gateway.Auth;

/// <summary>Dfs:Gateway:Auth.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Dfs:Gateway:Auth";
    public const int DefaultIterations = 210_000;

    /// <summary>The first admin, created when there is no user at all.</summary>
    public string AdminUser { get; set; } = "admin";

    /// <summary>The first admin's password; unset = a generated one, logged once at Warning.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>PBKDF2-SHA256 iterations for new hashes (stored hashes keep their own count).</summary>
    [Range(10_000, 10_000_000)]
    public int Pbkdf2Iterations { get; set; } = DefaultIterations;

    /// <summary>Lifetime of a new bearer token, and the most a request may ask for.</summary>
    [Range(1, 8760)]
    public int TokenLifetimeHours { get; set; } = 7 * 24;

    /// <summary>How long a verified Basic credential or bearer token is remembered (a slow hash per request would be a DoS).</summary>
    [Range(0, 3600)]
    public int CredentialCacheSeconds { get; set; } = 60;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UserNames.Validate(AdminUser) is { } nameError)
            yield return new ValidationResult($"{Section}:AdminUser: {nameError}", [nameof(AdminUser)]);
        if (AdminPassword is not null && UserNames.ValidatePassword(AdminPassword) is { } passwordError)
            yield return new ValidationResult($"{Section}:AdminPassword: {passwordError}", [nameof(AdminPassword)]);
    }
}
