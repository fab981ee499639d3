using System.Security.Cryptography;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// The key every gateway seals S3 access keys' secrets with, the secret parameter access-key-master-key: unless
/// Parameters:access-key-master-key is configured, kept per state folder in STATE/gateway/access-key-master-key
/// (owner-only), generated at the first run and the same for every later run. Kept beside the database, never in it: a
/// new key would leave every access key made under the old one unusable.
/// </summary>
public static class AccessKeyMasterKey
{
    public const string FileName = "access-key-master-key";
    public const string Variable = "Dfs__Gateway__AccessKeyMasterKey";
    public const int HexDigits = 64;

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, AdminPasswordFile.FolderName, FileName);

    /// <summary>The key in <paramref name="path"/> (64 hex digits), written there first when the file does not exist.</summary>
    public static string LoadOrCreate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(HexDigits / 2));
            using (var writer = new StreamWriter(path, options)) writer.WriteLine(key);
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Kept from an earlier run (or written by the operator): use it as it is.
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var kept = File.ReadAllText(path).Trim();
        if (kept.Length != HexDigits || !kept.All(char.IsAsciiHexDigit))
            throw new AppHostConfigurationException(
                $"{path} must hold the gateways' access key master key ({HexDigits} hex digits). Deleting it gets a new one, and every S3 "
                + "access key created under the old one stops working.");
        return kept;
    }
}

/// <summary>The access-key-master-key parameter's value when none is configured: the state folder's file.</summary>
internal sealed class AccessKeyMasterKeyFileDefault(string path) : ParameterDefault
{
    public override string GetDefaultValue() => AccessKeyMasterKey.LoadOrCreate(path);

    // A deployment generates its own key: nothing of this machine's file goes into a manifest. Digits only, which are hex
    // digits too (64 of them hold about 212 bits); the gateway refuses at start whatever is not 64 hex digits.
    public override void WriteToManifest(Aspire.Hosting.Publishing.ManifestPublishingContext context) =>
        new GenerateParameterDefault { MinLength = AccessKeyMasterKey.HexDigits, Lower = false, Upper = false, Special = false }.WriteToManifest(context);
}
