using Dfs.Cli.Shell;

namespace Dfs.Cli.Tests;

public sealed class ShellTokenizerTests
{
    public static TheoryData<string, string[]> Lines => new()
    {
        { "put a.txt /docs/", ["put", "a.txt", "/docs/"] },
        { "  ls   -R\t/docs  ", ["ls", "-R", "/docs"] },
        { "put \"my file.txt\" 'other name.txt'", ["put", "my file.txt", "other name.txt"] },
        { @"put my\ file.txt", ["put", "my file.txt"] },
        { @"echo ""say \""hi\"" \\ now""", ["echo", @"say ""hi"" \ now"] },
        { @"get ""C:\dir\f.txt""", ["get", @"C:\dir\f.txt"] },
        { @"get 'a\b ""c""'", ["get", @"a\b ""c"""] },
        { "mv a\"b c\"d 'e'f", ["mv", "ab cd", "ef"] },
        { "mkdir \"\" ''", ["mkdir", "", ""] },
        { "", [] },
        { "   ", [] },
        { @"rm \'quoted\'", ["rm", "'quoted'"] },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void Splits_words_with_quotes_and_escapes(string line, string[] expected) =>
        Assert.Equal(expected, ShellTokenizer.Split(line));

    [Theory]
    [InlineData("put \"unterminated", "double quote")]
    [InlineData("put 'unterminated", "single quote")]
    [InlineData("put \"a\\\"", "double quote")]
    [InlineData("put trailing\\", "backslash")]
    public void Rejects_unterminated_quotes_and_dangling_escapes(string line, string expected)
    {
        var error = Assert.Throws<ShellSyntaxException>(() => ShellTokenizer.Split(line));
        Assert.Contains(expected, error.Message);
    }
}
