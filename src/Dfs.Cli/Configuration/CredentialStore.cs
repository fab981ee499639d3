using System.Text.Json;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Configuration;

/// <summary>A token saved by `dfs login` for one gateway.</summary>
public sealed record SavedCredential(string User, string Token, DateTime ExpiresAt);

/// <summary>
/// credentials.json in the config folder: a JSON object mapping gateway URL → <see cref="SavedCredential"/>.
/// The file holds bearer tokens, so it is owner-only (0600, its folder 0700) and replaced atomically.
/// </summary>
public sealed class CredentialStore(string directory, Action<string>? warn = null)
{
    public const string FileName = "credentials.json";

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OthersAccess = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly JsonSerializerOptions Json = new(DfsJson.Options) { WriteIndented = true };

    public string FilePath { get; } = Path.Combine(directory, FileName);

    /// <summary>The key of a gateway: its URL without a trailing slash (the scheme and host are already lower case in a Uri).</summary>
    public static string Key(Uri gateway) => gateway.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public SavedCredential? Get(Uri gateway) => Load().GetValueOrDefault(Key(gateway));

    public void Save(Uri gateway, SavedCredential credential)
    {
        var all = Load();
        all[Key(gateway)] = credential;
        Write(all);
    }

    /// <summary>Forgets the gateway's token; false when none was saved.</summary>
    public bool Remove(Uri gateway)
    {
        var all = Load();
        if (!all.Remove(Key(gateway))) return false;
        if (all.Count == 0) File.Delete(FilePath);
        else Write(all);
        return true;
    }

    public SortedDictionary<string, SavedCredential> Load()
    {
        var empty = new SortedDictionary<string, SavedCredential>(StringComparer.Ordinal);
        if (!File.Exists(FilePath)) return empty;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(FilePath) & OthersAccess) != 0)
            warn?.Invoke($"warning: {FilePath} is accessible by other users; run `chmod 600 {FilePath}`");
        try
        {
            using var stream = File.OpenRead(FilePath);
            var saved = JsonSerializer.Deserialize<Dictionary<string, SavedCredential?>>(stream, Json) ?? [];
            foreach (var (key, value) in saved)
                if (value is { User: not null, Token: not null }) empty[key] = value;
            return empty;
        }
        catch (JsonException e)
        {
            // A damaged file must not lock the user out: it is ignored, and the next `dfs login` rewrites it.
            warn?.Invoke($"warning: ignoring {FilePath}: not valid JSON ({e.Message})");
            return empty;
        }
    }

    private void Write(SortedDictionary<string, SavedCredential> all)
    {
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, OwnerOnlyFolder);
        }

        // Written to a temp file created owner-only, then renamed over the old file: a reader never sees half a file,
        // and the token is never readable by others, not even for a moment.
        var temp = Path.Combine(directory, $".{FileName}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
        try
        {
            using (var stream = new FileStream(temp, options))
                JsonSerializer.Serialize(stream, all, Json);
            File.Move(temp, FilePath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
