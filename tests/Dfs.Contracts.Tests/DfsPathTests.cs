using Dfs.Contracts.Paths;

namespace Dfs.Contracts.Tests;

public sealed class DfsPathTests
{
    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("a", "/a")]
    [InlineData("/a/b/", "/a/b")]
    [InlineData("/docs/report.txt", "/docs/report.txt")]
    [InlineData("/caf\u0065\u0301", "/caf\u00e9")] // NFD in, NFC out: names that differ only by normalization are one name
    [InlineData("/日本語/ファイル", "/日本語/ファイル")]
    [InlineData("/with space/and%percent", "/with space/and%percent")]
    public void Valid_paths_normalize(string raw, string expected) => Assert.Equal(expected, DfsPath.Normalize(raw));

    [Theory]
    [InlineData("/a//b", "empty segment")]
    [InlineData("/a/./b", "'.'")]
    [InlineData("/a/../b", "'..'")]
    [InlineData("..", "'..'")]
    [InlineData("/a\u0000b", "control character")]
    [InlineData("/a\nb", "control character")]
    [InlineData("/a\u007fb", "control character")]
    public void Invalid_paths_are_refused_with_a_reason(string raw, string reason)
    {
        Assert.False(DfsPath.TryNormalize(raw, out _, out var error));
        Assert.Contains(reason, error);
        var e = Assert.Throws<InvalidDfsPathException>(() => DfsPath.Normalize(raw));
        Assert.Contains(reason, e.Reason);
    }

    [Fact]
    public void Lone_surrogates_are_not_valid_unicode()
    {
        // Not a theory: test-case serialization would replace the lone surrogate before it reached the test.
        Assert.False(DfsPath.TryNormalize("/a\ud800b", out _, out var error));
        Assert.Contains("Unicode", error);
        Assert.False(DfsPath.TryNormalize("/\udc00", out _, out _));
    }

    [Fact]
    public void Segment_and_path_lengths_are_counted_in_utf8_bytes()
    {
        Assert.True(DfsPath.TryNormalize("/" + new string('a', 255), out _, out _));
        Assert.False(DfsPath.TryNormalize("/" + new string('a', 256), out _, out var error));
        Assert.Contains("255 bytes", error);
        // 'é' is two bytes in UTF-8: 128 of them is 256 bytes.
        Assert.False(DfsPath.TryNormalize("/" + new string('é', 128), out _, out _));
        Assert.True(DfsPath.TryNormalize("/" + new string('é', 127), out _, out _));

        var justFits = string.Concat(Enumerable.Repeat("/" + new string('b', 255), 16)); // 16 × 256 = 4096
        Assert.True(DfsPath.TryNormalize(justFits, out _, out _));
        Assert.False(DfsPath.TryNormalize(justFits + "/c", out _, out error));
        Assert.Contains("4096 bytes", error);
    }

    [Theory]
    [InlineData("/", "a", "/a")]
    [InlineData("/a/b", "c", "/a/b/c")]
    [InlineData("/a/b", "../c", "/a/c")]
    [InlineData("/a/b", "/x/y", "/x/y")]
    [InlineData("/a/b", "..", "/a")]
    [InlineData("/", "../..", "/")]
    [InlineData("/a", "./b/./c", "/a/b/c")]
    public void Relative_paths_resolve_against_the_current_directory(string current, string path, string expected) =>
        Assert.Equal(expected, DfsPath.Resolve(current, path));

    [Fact]
    public void Parent_name_and_url_form()
    {
        Assert.Equal("/a", DfsPath.Parent("/a/b"));
        Assert.Equal("/", DfsPath.Parent("/a"));
        Assert.Equal("b c", DfsPath.Name("/a/b c"));
        Assert.Equal("a%20b/%E6%97%A5%3F%23", DfsPath.ToUrlPath("/a b/日?#"));
        Assert.True(DfsPath.IsSameOrBelow("/a/b", "/a"));
        Assert.False(DfsPath.IsSameOrBelow("/ab", "/a"));
    }
}
