using System.Net;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

[Collection(ClusterCollection.Name)]
public sealed class ConcurrencyTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const int Clients = 32;

    [Fact]
    public async Task Thirty_two_clients_put_and_get_different_files_at_once()
    {
        var files = Enumerable.Range(0, Clients).Select(i => TestData.Random(200_000 + i * 40_000, 1000 + i)).ToArray();
        await Task.WhenAll(files.Select(async (data, i) =>
        {
            using var http = cluster.App.CreateGatewayClient();
            var g = DfsRefit.Gateway(http);
            await g.PutFileAsync($"/concurrent/{i}.bin", new MemoryStream(data), ct: Ct);
            await using var download = await g.GetFileAsync($"/concurrent/{i}.bin", ct: Ct);
            Assert.Equal(TestData.Sha256(data), await TestData.Sha256OfAsync(download.Content));
        }));
        var listing = await cluster.Gateway.ListAsync("/concurrent", ct: Ct);
        Assert.Equal(Clients, listing.Entries.Count);
    }

    [Fact]
    public async Task Racing_puts_on_one_path_end_in_exactly_the_policy_outcome()
    {
        var contents = Enumerable.Range(0, Clients).Select(i => TestData.Random(ClusterFixture.ChunkSize + 1000 * i, 2000 + i)).ToArray();

        // fail: one winner, everyone else 409, and the file is exactly the winner's bytes.
        var outcomes = await Task.WhenAll(contents.Select((data, i) => TryPut("/race/fail.bin", data, ConflictPolicy.Fail)));
        Assert.Single(outcomes, o => o.Result is not null);
        Assert.All(outcomes.Where(o => o.Result is null), o => Assert.Equal(HttpStatusCode.Conflict, o.Status));
        var winner = outcomes.Single(o => o.Result is not null).Result!;
        Assert.Equal(winner.Sha256, await cluster.Gateway.DownloadSha256Async("/race/fail.bin", Ct));

        // overwrite: every writer gets a distinct version; the file is whole and equals the last version's bytes.
        var overwrites = await Task.WhenAll(contents.Select(data => TryPut("/race/overwrite.bin", data, ConflictPolicy.Overwrite)));
        Assert.All(overwrites, o => Assert.NotNull(o.Result));
        Assert.Equal(Enumerable.Range(1, Clients), overwrites.Select(o => o.Result!.Version).Order());
        var last = overwrites.Single(o => o.Result!.Version == Clients).Result!;
        Assert.Equal(last.Sha256, await cluster.Gateway.DownloadSha256Async("/race/overwrite.bin", Ct));
        Assert.Equal(TestData.Sha256(contents[Array.FindIndex(overwrites, o => o.Result!.Version == Clients)]), last.Sha256);

        // rename: every writer gets its own name with its own bytes.
        var renames = await Task.WhenAll(contents.Select(data => TryPut("/race/rename.bin", data, ConflictPolicy.Rename)));
        Assert.Equal(Clients, renames.Select(o => o.Result!.Path).Distinct().Count());
        for (var i = 0; i < Clients; i++)
            Assert.Equal(TestData.Sha256(contents[i]), await cluster.Gateway.DownloadSha256Async(renames[i].Result!.Path, Ct));
    }

    /// <summary>One client of its own per writer, so that the puts really race on separate connections.</summary>
    private async Task<(PutFileResult? Result, HttpStatusCode? Status)> TryPut(string path, byte[] data, ConflictPolicy policy)
    {
        using var http = cluster.App.CreateGatewayClient();
        try { return (await DfsRefit.Gateway(http).PutFileAsync(path, new MemoryStream(data), new PutFileOptions(policy), Ct), null); }
        catch (DfsApiException e) { return (null, e.StatusCode); }
    }
}
