using System.Security.Cryptography;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// The gateway's first-admin password, the secret parameter admin-password: unless Parameters:admin-password is configured,
/// kept per state folder in <see cref="AdminPasswordFile"/> (owner-only), generated at the first run and the same for every
/// later run, so a restarted cluster keeps its admin and `dfs login` on this machine can read it.
/// </summary>
public static class AdminPassword
{
    public const string User = AdminPasswordFile.DefaultUser;
    public const string PasswordVariable = "Dfs__Gateway__Auth__AdminPassword";
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>The password in <paramref name="path"/>, written there first when the file does not exist.</summary>
    public static string LoadOrCreate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var password = RandomNumberGenerator.GetString(Alphabet, 24);
            using (var writer = new StreamWriter(path, options)) writer.WriteLine(password);
            return password;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Kept from an earlier run (or written by the operator): use it as it is.
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var kept = File.ReadAllText(path).Trim();
        if (kept.Length is < 8 or > 256)
            throw new AppHostConfigurationException($"{path} must hold the gateway's admin password (8 to 256 characters); delete it to get a new one.");
        return kept;
    }
}

/// <summary>The admin-password parameter's value when none is configured: the state folder's file.</summary>
internal sealed class AdminPasswordFileDefault(string path) : ParameterDefault
{
    public override string GetDefaultValue() => AdminPassword.LoadOrCreate(path);

    // A deployment generates its own secret: nothing of this machine's file goes into a manifest.
    public override void WriteToManifest(Aspire.Hosting.Publishing.ManifestPublishingContext context) =>
        new GenerateParameterDefault { MinLength = 24, Special = false }.WriteToManifest(context);
}
