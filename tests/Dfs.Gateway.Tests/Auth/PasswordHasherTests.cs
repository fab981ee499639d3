using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Dfs.Gateway.Auth;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>The stored password format and its verification.</summary>
public sealed class PasswordHasherTests
{
    private static PasswordHasher Hasher(int iterations) => new(Options.Create(new AuthOptions { Pbkdf2Iterations = iterations }));

    [Fact]
    public void A_hash_is_salted_pbkdf2_sha256_in_the_documented_format()
    {
        var stored = Hasher(12_345).Hash("correct horse");

        var parts = stored.Split('$');
        Assert.Equal(4, parts.Length);
        Assert.Equal("pbkdf2-sha256", parts[0]);
        Assert.Equal("12345", parts[1]);
        var salt = Convert.FromBase64String(parts[2]);
        var hash = Convert.FromBase64String(parts[3]);
        Assert.Equal(16, salt.Length);
        Assert.Equal(32, hash.Length);
        // Recomputed independently from the stored parts: the format says everything needed.
        Assert.Equal(hash, Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes("correct horse"), salt, 12_345, HashAlgorithmName.SHA256, 32));
        // A new salt each time: equal passwords do not give equal hashes.
        Assert.NotEqual(stored, Hasher(12_345).Hash("correct horse"));
        Assert.Equal(AuthOptions.DefaultIterations, 210_000);
        Assert.StartsWith("pbkdf2-sha256$210000$", new PasswordHasher(Options.Create(new AuthOptions())).Hash("x"));
    }

    [Fact]
    public void Verify_accepts_the_password_and_nothing_else()
    {
        var hasher = Hasher(10_000);
        var stored = hasher.Hash("pässwörd 1");

        Assert.True(hasher.Verify("pässwörd 1", stored));
        Assert.False(hasher.Verify("pässwörd 2", stored));
        Assert.False(hasher.Verify("", stored));
        Assert.False(hasher.Verify("pässwörd 1 ", stored));
        // The iteration count comes from the stored hash: raising the configured count keeps old hashes valid.
        Assert.True(Hasher(50_000).Verify("pässwörd 1", stored));

        var parts = stored.Split('$');
        var flipped = Convert.FromBase64String(parts[3]);
        flipped[0] ^= 1;
        Assert.False(hasher.Verify("pässwörd 1", string.Join('$', parts[0], parts[1], parts[2], Convert.ToBase64String(flipped))));
        Assert.False(hasher.Verify("pässwörd 1", string.Join('$', parts[0], "10001", parts[2], parts[3])));
        foreach (var malformed in new[] { "", "plain", "md5$1$a$b", "pbkdf2-sha256$x$AAAA$AAAA", "pbkdf2-sha256$10000$!!$AAAA" })
            Assert.False(hasher.Verify("pässwörd 1", malformed));
    }

    [Fact]
    public void An_unknown_user_costs_a_full_hash_too()
    {
        var hasher = Hasher(50_000);
        var stored = hasher.Hash("secret-password");
        Assert.False(hasher.Verify("secret-password", null));

        static TimeSpan Fastest(Action action)
        {
            var best = TimeSpan.MaxValue;
            for (var i = 0; i < 5; i++)
            {
                var started = Stopwatch.GetTimestamp();
                action();
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (elapsed < best) best = elapsed;
            }
            return best;
        }
        var known = Fastest(() => hasher.Verify("wrong-password", stored));
        var unknown = Fastest(() => hasher.Verify("wrong-password", null));
        // Same work either way. The bound is very loose because the machine is shared: skipping the hash would
        // make the unknown case a thousand times faster, not a few.
        Assert.True(unknown > known * 0.1, $"unknown user {unknown.TotalMilliseconds:0.0} ms vs known user {known.TotalMilliseconds:0.0} ms");
    }

    [Fact]
    public void Tokens_are_random_and_only_their_sha256_is_kept()
    {
        var a = TokenFormat.Generate();
        var b = TokenFormat.Generate();
        Assert.NotEqual(a, b);
        Assert.StartsWith("dfs_", a);
        Assert.Equal(4 + 43, a.Length); // base64url of 32 bytes, unpadded
        Assert.Matches("^dfs_[A-Za-z0-9_-]{43}$", a);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(a))), TokenFormat.HashOf(a));
    }

    [Fact]
    public void Generated_passwords_are_24_characters_and_differ()
    {
        var a = PasswordHasher.Generate();
        Assert.Equal(24, a.Length);
        Assert.NotEqual(a, PasswordHasher.Generate());
        Assert.Null(UserNames.ValidatePassword(a));
    }

    [Theory]
    [InlineData("/home/alice", "alice")]
    [InlineData("/home/alice/docs/a.txt", "alice")]
    [InlineData("/home", null)]
    [InlineData("/", null)]
    [InlineData("/homely/alice", null)]
    [InlineData("/projects/home/alice", null)]
    public void Paths_under_a_home_belong_to_its_user_the_rest_to_the_admins(string path, string? owner) =>
        Assert.Equal(owner, UserNames.OwnerOf(path));
}
