using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Dfs.Cli.Commands;

/// <summary>Sizes typed by the user: bytes ("1048576") or a number with a binary unit ("500M", "2G", "1.5GiB", "64KB").</summary>
internal static partial class Sizes
{
    public const string Help = "bytes, or a number with K, M, G, T (powers of 1024; KiB/KB etc. also accepted), e.g. 500M, 2G";

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text.Trim());
        if (!match.Success) return false;
        var number = decimal.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups["unit"].Value.ToUpperInvariant();
        var factor = unit switch { "" => 1m, "K" => 1L << 10, "M" => 1L << 20, "G" => 1L << 30, "T" => 1L << 40, _ => 1L << 50 };
        if (number > long.MaxValue / factor) return false;
        var value = number * factor;
        if (unit.Length == 0 && decimal.Truncate(value) != value) return false;
        bytes = (long)decimal.Truncate(value);
        return true;
    }

    /// <summary>For System.CommandLine: a size, or "none" (no limit); anything else is a usage error.</summary>
    public static SizeOrNone Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return new(null);
        if (TryParse(text, out var bytes)) return new(bytes);
        result.AddError($"'{text}' is not a size: expected {Help}, or none");
        return default;
    }

    // A wrapper, because System.CommandLine cannot hand back a null from a custom parser of a nullable value type.
    internal readonly record struct SizeOrNone(long? Bytes);

    [GeneratedRegex(@"^(?<number>\d{1,20}(\.\d{1,6})?)\s*(?:(?<unit>[KMGTP])(?:i?B)?|B)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
