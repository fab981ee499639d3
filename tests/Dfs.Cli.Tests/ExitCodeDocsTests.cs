using System.Globalization;
using System.Text.RegularExpressions;

namespace Dfs.Cli.Tests;

/// <summary>Scripts are written against the exit-code table in the CLI's README, so it must say exactly what the code does.</summary>
public sealed partial class ExitCodeDocsTests
{
    [Fact]
    public void The_readme_table_has_one_row_per_exit_code_and_no_other()
    {
        var rows = ExitCodeRows(File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Dfs.Cli", "README.md")));

        Assert.Equal(ExitCodes.All.Select(c => c.Code).Order(), rows.Keys.Order());
        foreach (var (code, meaning) in ExitCodes.All)
        {
            // ExitCodes.All is the short form (dfs --help); the README may add detail after the same words.
            var head = meaning.Split([',', ':', '(']) [0].Trim();
            Assert.True(rows[code].StartsWith(head, StringComparison.Ordinal), $"README row {code} is '{rows[code]}', expected it to start with '{head}'");
        }
    }

    [Fact]
    public void The_root_readme_links_to_the_cli_readme()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

        Assert.Contains("](src/Dfs.Cli/README.md)", readme);
    }

    /// <summary>The rows of the table under "## Exit codes": code → meaning; a repeated code fails.</summary>
    private static Dictionary<int, string> ExitCodeRows(string readme)
    {
        var section = readme[readme.IndexOf("\n## Exit codes\n", StringComparison.Ordinal)..];
        var next = section.IndexOf("\n## ", 1, StringComparison.Ordinal);
        if (next > 0) section = section[..next];
        var rows = new Dictionary<int, string>();
        foreach (Match row in TableRow().Matches(section))
        {
            var cell = row.Groups["code"].Value.Trim();
            if (cell is "Code" || cell.StartsWith("---", StringComparison.Ordinal)) continue;
            Assert.True(int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out var code), $"'{cell}' in the exit-code table is not a code");
            rows.Add(code, row.Groups["meaning"].Value.Trim());
        }
        return rows;
    }

    [GeneratedRegex(@"^\|(?<code>[^|]*)\|(?<meaning>.*)\|\s*$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dfs.sln"))) return dir.FullName;
        throw new InvalidOperationException("Dfs.sln not found above " + AppContext.BaseDirectory);
    }
}
