using Dfs.AppHost.Tests.Support;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Model;

/// <summary>
/// The lines the AppHost prints about its profile when it starts: which profile and why, and a note when the state
/// folder was last used by another profile (whose data stays where it is). Console.Out is captured: the tests of this
/// assembly never run in parallel.
/// </summary>
public sealed class ProfileNoteTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private async Task<string> RunWithProfileAsync(string profile)
    {
        var options = new DfsClusterOptions { Profile = profile, Nodes = 1 };
        var console = new StringWriter();
        var original = Console.Out;
        Console.SetOut(console);
        try
        {
            await using var model = await AppHostModel.BuildAsync(options.ToArguments(_state), Ct);
        }
        finally
        {
            Console.SetOut(original);
        }
        return console.ToString().ReplaceLineEndings("\n");
    }

    [Fact]
    public async Task A_profile_change_on_the_same_state_folder_is_noted_once_in_one_line()
    {
        var first = await RunWithProfileAsync("embedded");
        Assert.StartsWith("profile: embedded (requested; ", first);
        Assert.DoesNotContain("note:", first);
        Assert.Equal("embedded\n", await File.ReadAllTextAsync(Path.Combine(_state, "profile"), Ct));

        var same = await RunWithProfileAsync("embedded");
        Assert.DoesNotContain("note:", same);

        var changed = await RunWithProfileAsync("local");
        Assert.StartsWith("profile: local (requested; PostgreSQL from ", changed);
        var note = Assert.Single(changed.Split('\n'), l => l.StartsWith("note:", StringComparison.Ordinal));
        Assert.Equal($"note: the local profile does not carry over the data the embedded profile keeps in {_state}: those files stay there, " +
                     "and --profile embedded shows them again.", note);
        Assert.Equal("local\n", await File.ReadAllTextAsync(Path.Combine(_state, "profile"), Ct));

        var back = await RunWithProfileAsync("embedded");
        Assert.Contains($"note: the embedded profile does not carry over the data the local profile keeps in {_state}", back);
    }
}
