using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Dfs.Contracts.Paths;

/// <summary>
/// The one definition of a valid Dfs path, shared by the gateway (which enforces it) and the CLI
/// (which resolves relative paths with it). Canonical form: leading '/', NFC, no trailing '/'; root is "/".
/// </summary>
public static class DfsPath
{
    public const string Root = "/";
    public const int MaxSegmentBytes = 255;
    public const int MaxPathBytes = 4096;

    public static string Normalize(string? raw) =>
        TryNormalize(raw, out var normalized, out var error) ? normalized : throw new InvalidDfsPathException(raw ?? "", error);

    public static bool TryNormalize(string? raw, [NotNullWhen(true)] out string? normalized, [NotNullWhen(false)] out string? error)
    {
        normalized = null;
        if (raw is null) { error = "The path is missing."; return false; }

        // Reject invalid UTF-16 (lone surrogates) before normalizing: it cannot be encoded as UTF-8.
        try
        {
            if (!raw.IsNormalized(NormalizationForm.FormC)) raw = raw.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            error = "The path is not valid Unicode.";
            return false;
        }

        var trimmed = raw.Length > 0 && raw[0] == '/' ? raw[1..] : raw;
        if (trimmed.Length == 0) { normalized = Root; error = null; return true; }
        if (trimmed.EndsWith('/')) trimmed = trimmed[..^1];

        var builder = new StringBuilder(trimmed.Length + 1);
        foreach (var segment in trimmed.Split('/'))
        {
            if (!TryValidateSegment(segment, out error)) return false;
            builder.Append('/').Append(segment);
        }

        var result = builder.ToString();
        int bytes;
        try { bytes = Utf8Strict.GetByteCount(result); }
        catch (EncoderFallbackException) { error = "The path is not valid Unicode."; return false; }
        if (bytes > MaxPathBytes) { error = $"The path is longer than {MaxPathBytes} bytes."; return false; }

        normalized = result;
        error = null;
        return true;
    }

    /// <summary>Validates a single name (no '/'), for example a file name chosen by a rename.</summary>
    public static bool TryValidateSegment(string segment, [NotNullWhen(false)] out string? error)
    {
        if (segment.Length == 0) { error = "The path has an empty segment ('//')."; return false; }
        if (segment is "." or "..") { error = $"The path has a '{segment}' segment."; return false; }
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '/') { error = "A name cannot contain '/'."; return false; }
            if (char.IsControl(c)) { error = "The path contains a control character."; return false; }
            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < segment.Length && char.IsLowSurrogate(segment[++i])))
            {
                error = "The path is not valid Unicode (a lone surrogate).";
                return false;
            }
        }
        int bytes;
        try { bytes = Utf8Strict.GetByteCount(segment); }
        catch (EncoderFallbackException) { error = "The path is not valid Unicode."; return false; }
        if (bytes > MaxSegmentBytes) { error = $"A path segment is longer than {MaxSegmentBytes} bytes."; return false; }
        error = null;
        return true;
    }

    public static string Combine(string directory, string name) =>
        directory == Root ? Root + name : directory + "/" + name;

    /// <summary>Resolves <paramref name="path"/> against <paramref name="current"/> (both client-side), handling '.' and '..'.</summary>
    public static string Resolve(string current, string path)
    {
        var start = path.StartsWith('/') ? new List<string>() : Segments(current).ToList();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".") continue;
            if (segment == "..") { if (start.Count > 0) start.RemoveAt(start.Count - 1); continue; }
            start.Add(segment);
        }
        return Root + string.Join('/', start);
    }

    public static string Parent(string normalized)
    {
        if (normalized == Root) return Root;
        var index = normalized.LastIndexOf('/');
        return index <= 0 ? Root : normalized[..index];
    }

    public static string Name(string normalized) =>
        normalized == Root ? "" : normalized[(normalized.LastIndexOf('/') + 1)..];

    public static IEnumerable<string> Segments(string normalized) =>
        normalized.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or lies below it.</summary>
    public static bool IsSameOrBelow(string path, string ancestor) =>
        ancestor == Root || path == ancestor || path.StartsWith(ancestor + "/", StringComparison.Ordinal);

    /// <summary>The URL form used in routes: each segment percent-encoded, no leading '/'.</summary>
    public static string ToUrlPath(string normalized) =>
        string.Join('/', Segments(normalized).Select(Uri.EscapeDataString));

    private static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

public sealed class InvalidDfsPathException(string path, string reason)
    : ArgumentException($"Invalid path '{path}': {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}
