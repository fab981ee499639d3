using System.Text;

namespace Dfs.Cli.Shell;

public sealed class ShellSyntaxException(string message) : Exception(message);

/// <summary>
/// Splits a shell line into words, POSIX-style: whitespace separates words; '…' is literal; "…" allows \" and \\;
/// outside quotes a backslash escapes the next character. Quotes may join parts of one word (a"b c"d is one word).
/// </summary>
public static class ShellTokenizer
{
    public static IReadOnlyList<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;

        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            switch (c)
            {
                case '\'':
                {
                    var end = line.IndexOf('\'', i + 1);
                    if (end < 0) throw new ShellSyntaxException($"unterminated single quote at column {i + 1}");
                    current.Append(line, i + 1, end - i - 1);
                    i = end;
                    inWord = true;
                    break;
                }
                case '"':
                {
                    var start = i;
                    for (i++; ; i++)
                    {
                        if (i >= line.Length) throw new ShellSyntaxException($"unterminated double quote at column {start + 1}");
                        if (line[i] == '"') break;
                        if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\') i++;
                        current.Append(line[i]);
                    }
                    inWord = true;
                    break;
                }
                case '\\':
                    if (i + 1 >= line.Length) throw new ShellSyntaxException("a backslash at the end of the line escapes nothing");
                    current.Append(line[++i]);
                    inWord = true;
                    break;
                default:
                    if (char.IsWhiteSpace(c))
                    {
                        if (inWord) words.Add(current.ToString());
                        current.Clear();
                        inWord = false;
                    }
                    else
                    {
                        current.Append(c);
                        inWord = true;
                    }
                    break;
            }
        }
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
