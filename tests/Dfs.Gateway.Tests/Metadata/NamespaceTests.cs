using System.Data;
using Dfs.Gateway.Namespace;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using System.Security.Cryptography;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Gateway.Http;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>The namespace and commit rules, on SQLite and on PostgreSQL.</summary>
public sealed class NamespaceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Mkdir_creates_parents_and_refuses_clashes(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);

        var (created, isNew) = await meta.NamesAsync(n => n.MkdirAsync("/a/b/c", parents: true, Ct));
        Assert.True(isNew);
        Assert.Equal("/a/b/c", created.Path);
        Assert.Equal(EntryKind.Directory, (await meta.NamesAsync(n => n.StatEntryAsync("/a/b", Ct))).Kind);

        var (_, again) = await meta.NamesAsync(n => n.MkdirAsync("/a/b/c", parents: true, Ct));
        Assert.False(again);
        await AssertProblem(409, () => meta.NamesAsync(n => n.MkdirAsync("/a/b/c", parents: false, Ct)));
        await AssertProblem(404, () => meta.NamesAsync(n => n.MkdirAsync("/x/y", parents: false, Ct)));

        await meta.CommitAsync("/a/file", ConflictPolicy.Fail, "data"u8.ToArray());
        await AssertProblem(409, () => meta.NamesAsync(n => n.MkdirAsync("/a/file/sub", parents: true, Ct)));
        await AssertProblem(409, () => meta.CommitAsync("/a/file/below", ConflictPolicy.Fail, [1]));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Commit_follows_the_conflict_policy(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);

        var first = await meta.CommitAsync("/docs/report.txt", ConflictPolicy.Fail, "one"u8.ToArray());
        Assert.Equal(1, first.Result.Version);
        Assert.False(first.Result.Renamed);

        await AssertProblem(409, () => meta.CommitAsync("/docs/report.txt", ConflictPolicy.Fail, "two"u8.ToArray()));

        var overwritten = await meta.CommitAsync("/docs/report.txt", ConflictPolicy.Overwrite, "three"u8.ToArray());
        Assert.Equal(2, overwritten.Result.Version);
        var stat = await meta.NamesAsync(n => n.StatAsync("/docs/report.txt", Ct));
        Assert.Equal(2, stat.Version);
        Assert.Equal(5, stat.Size);
        Assert.Equal(MetadataHarness.FakeUpload("three"u8.ToArray()).Sha256, stat.Sha256);

        var renamed1 = await meta.CommitAsync("/docs/report.txt", ConflictPolicy.Rename, "four"u8.ToArray());
        var renamed2 = await meta.CommitAsync("/docs/report.txt", ConflictPolicy.Rename, "five"u8.ToArray());
        Assert.True(renamed1.Result.Renamed);
        Assert.Equal("/docs/report (1).txt", renamed1.Result.Path);
        Assert.Equal("/docs/report (2).txt", renamed2.Result.Path);

        await AssertProblem(409, () => meta.CommitAsync("/docs", ConflictPolicy.Overwrite, "x"u8.ToArray()));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Listing_is_sorted_by_byte_order_and_paged(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var names = Enumerable.Range(0, 23).Select(i => $"f{i:D2}").Concat(["Zeta", "alpha", "été", "日本語", "B"]).ToList();
        foreach (var name in names) await meta.CommitAsync("/dir/" + name, ConflictPolicy.Fail, Encoding.UTF8.GetBytes(name));
        await meta.NamesAsync(n => n.MkdirAsync("/dir/sub", false, Ct));
        names.Add("sub");

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await meta.NamesAsync(n => n.ListAsync("/dir", cursor, 10, Ct));
            Assert.True(page.Entries.Count <= 10);
            seen.AddRange(page.Entries.Select(e => e.Name));
            cursor = page.NextCursor;
            pages++;
        } while (cursor is not null);

        var expected = names.OrderBy(n => Encoding.UTF8.GetBytes(n), ByteOrder.Instance).ToList();
        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);

        var root = await meta.NamesAsync(n => n.ListAsync("/", null, 100, Ct));
        Assert.Equal(["dir"], root.Entries.Select(e => e.Name));
        await AssertProblem(400, () => meta.NamesAsync(n => n.ListAsync("/dir", "not base64!", 10, Ct)));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Move_renames_files_and_whole_directories(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        await meta.CommitAsync("/a/b/one.txt", ConflictPolicy.Fail, "1"u8.ToArray());
        await meta.CommitAsync("/a/b/c/two.txt", ConflictPolicy.Fail, "2"u8.ToArray());
        await meta.CommitAsync("/a_sibling/three.txt", ConflictPolicy.Fail, "3"u8.ToArray());

        await meta.NamesAsync(n => n.MkdirAsync("/z", false, Ct));
        var moved = await meta.NamesAsync(n => n.MoveAsync("/a/b", "/z/b2", Ct));
        Assert.Equal("/z/b2", moved.Path);
        Assert.Equal(1, (await meta.NamesAsync(n => n.StatAsync("/z/b2/c/two.txt", Ct))).Version);
        Assert.Equal(EntryKind.File, (await meta.NamesAsync(n => n.StatEntryAsync("/z/b2/one.txt", Ct))).Kind);
        await AssertProblem(404, () => meta.NamesAsync(n => n.StatEntryAsync("/a/b/one.txt", Ct)));
        // A sibling whose name shares the prefix is untouched.
        Assert.Equal(EntryKind.File, (await meta.NamesAsync(n => n.StatEntryAsync("/a_sibling/three.txt", Ct))).Kind);

        await meta.NamesAsync(n => n.MoveAsync("/z/b2/one.txt", "/one-renamed.txt", Ct));
        Assert.Equal(1, (await meta.NamesAsync(n => n.StatAsync("/one-renamed.txt", Ct))).Version);

        await AssertProblem(400, () => meta.NamesAsync(n => n.MoveAsync("/z", "/z/b2/inside", Ct)));
        await AssertProblem(409, () => meta.NamesAsync(n => n.MoveAsync("/z/b2", "/a_sibling", Ct)));
        await AssertProblem(404, () => meta.NamesAsync(n => n.MoveAsync("/missing", "/elsewhere", Ct)));
        await AssertProblem(404, () => meta.NamesAsync(n => n.MoveAsync("/z", "/no/such/parent", Ct)));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Delete_refuses_non_empty_directories_unless_recursive(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        await meta.CommitAsync("/d/e/f.txt", ConflictPolicy.Fail, "f"u8.ToArray());
        await meta.CommitAsync("/d2/keep.txt", ConflictPolicy.Fail, "k"u8.ToArray());

        await AssertProblem(409, () => meta.NamesAsync(n => n.DeleteAsync("/d", recursive: false, expected: null, Ct)));
        await AssertProblem(409, () => meta.NamesAsync(n => n.DeleteAsync("/d", recursive: false, expected: EntryKind.File, Ct)));
        await AssertProblem(400, () => meta.NamesAsync(n => n.DeleteAsync("/", recursive: true, expected: null, Ct)));

        var deleted = await meta.NamesAsync(n => n.DeleteAsync("/d", recursive: true, expected: null, Ct));
        Assert.Equal(["/d/e/f.txt"], deleted.Select(f => f.Path));
        Assert.Single(deleted[0].ChunkIds);
        await AssertProblem(404, () => meta.NamesAsync(n => n.StatEntryAsync("/d/e/f.txt", Ct)));
        Assert.Equal(1, (await meta.NamesAsync(n => n.StatAsync("/d2/keep.txt", Ct))).Version);
        Assert.Equal(0, await meta.NamesAsync(n => Task.FromResult(n.Db.VersionChunks.Count(c => !n.Db.Versions.Any(v => v.Id == c.VersionId)))));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Racing_commits_end_in_exactly_the_policy_outcome(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        const int racers = 16;

        var fail = await Task.WhenAll(Enumerable.Range(0, racers).Select(i => Attempt(meta, "/race/fail.bin", ConflictPolicy.Fail, i)));
        Assert.Equal(1, fail.Count(r => r is not null));

        var overwrite = await Task.WhenAll(Enumerable.Range(0, racers).Select(i => Attempt(meta, "/race/over.bin", ConflictPolicy.Overwrite, i)));
        Assert.All(overwrite, r => Assert.NotNull(r));
        Assert.Equal(Enumerable.Range(1, racers), overwrite.Select(r => r!.Result.Version).Order());
        var final = await meta.NamesAsync(n => n.StatAsync("/race/over.bin", Ct));
        Assert.Equal(racers, final.Version);
        // The visible version is whole: its digest is the one committed with that version number.
        Assert.Equal(overwrite.Single(r => r!.Result.Version == racers)!.Result.Sha256, final.Sha256);
        Assert.Single(final.Chunks);

        var rename = await Task.WhenAll(Enumerable.Range(0, racers).Select(i => Attempt(meta, "/race/ren.bin", ConflictPolicy.Rename, i)));
        Assert.Equal(racers, rename.Select(r => r!.Result.Path).Distinct().Count());
        var listing = await meta.NamesAsync(n => n.ListAsync("/race", null, 100, Ct));
        Assert.Equal(2 + racers, listing.Entries.Count);
    }

    /// <summary>
    /// Commits into a directory while it is moved away again and again, and into another while it is deleted again and
    /// again: whatever order the database picks, every entry's parent exists and its path is the parent's path plus
    /// its name, and every file committed into the moving directory exists exactly once, with its own bytes.
    /// </summary>
    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Moves_and_deletes_racing_commits_leave_a_consistent_tree(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        const int files = 24;
        var commits = Enumerable.Range(0, files).Select(async i =>
        {
            await Task.Yield();
            // A commit recreates missing parents, so each lands in whichever /m/a/b exists when it commits.
            await meta.CommitAsync($"/m/a/b/f{i}.bin", ConflictPolicy.Fail, Encoding.UTF8.GetBytes($"f{i}"));
            await meta.CommitAsync($"/gone/d/g{i}.bin", ConflictPolicy.Overwrite, Encoding.UTF8.GetBytes($"g{i}"));
        }).ToList();
        var moves = Task.Run(async () =>
        {
            for (var k = 0; k < 16; k++)
                try { await meta.NamesAsync(n => n.MoveAsync("/m/a", $"/m/z{k}", Ct)); }
                catch (DfsProblemException e) when (e.Status == 404) { }
        }, Ct);
        var deletes = Task.Run(async () =>
        {
            for (var k = 0; k < 16; k++)
                try { await meta.NamesAsync(n => n.DeleteAsync("/gone", recursive: true, expected: null, Ct)); }
                catch (DfsProblemException e) when (e.Status == 404) { }
        }, Ct);
        await Task.WhenAll(commits);
        await Task.WhenAll(moves, deletes);

        var entries = await AssertConsistentTree(meta);
        var moved = entries.Where(e => e.Kind == EntryKind.File && e.Path.StartsWith("/m/", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, files).Select(i => $"f{i}.bin").Order(), moved.Select(e => e.Name).Order());
        var seven = moved.Single(e => e.Name == "f7.bin").Path;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("f7"u8)), (await meta.NamesAsync(n => n.StatAsync(seven, Ct))).Sha256);
    }

    [Fact]
    public async Task A_move_takes_in_writers_that_entered_folders_created_while_it_waited()
    {
        await using var meta = await MetadataDatabases.CreateAsync(MetadataDatabases.Postgres);
        await meta.NamesAsync(n => n.MkdirAsync("/w/a", parents: true, Ct));
        await meta.NamesAsync(n => n.MkdirAsync("/w/gate", parents: false, Ct));
        var folderCreated = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        // Writer one creates /w/a/b (so holds /w/a FOR SHARE) and the gate, and commits only when told to.
        var first = meta.InScopeAsync(async sp =>
        {
            var names = sp.GetRequiredService<NamespaceService>();
            await using var tx = await names.Db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, Ct);
            await names.FindLockedAsync("/w/gate", forUpdate: true, Ct);
            await names.EnsureDirectoryAsync("/w/a/b", Ct);
            folderCreated.SetResult();
            await release.Task;
            await tx.CommitAsync(Ct);
            return 0;
        });
        await folderCreated.Task;

        // Writer two waits on the gate, so it enters /w/a/b the moment writer one commits, racing the move, as a
        // commit that found the new folder would.
        var second = meta.InScopeAsync(async sp =>
        {
            var names = sp.GetRequiredService<NamespaceService>();
            await using var tx = await names.Db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, Ct);
            await names.FindLockedAsync("/w/gate", forUpdate: true, Ct);
            // Null when the move locked the folder first and has taken it to /w/z: a commit would then recreate it.
            if (await names.FindLockedAsync("/w/a/b", forUpdate: false, Ct) is not { } folder) return false;
            names.Db.Entries.Add(names.NewEntry(folder, "/w/a/b/late", EntryKind.Directory));
            await names.Db.SaveChangesAsync(Ct);
            await Task.Delay(300, Ct);
            await tx.CommitAsync(Ct);
            return true;
        });
        var move = meta.NamesAsync(n => n.MoveAsync("/w/a", "/w/z", Ct));
        await Task.Delay(300, Ct);
        Assert.False(move.IsCompleted, "The move must wait for the writer inside the folder it moves.");
        release.SetResult();
        await Task.WhenAll(first, second, move);

        var entries = await AssertConsistentTree(meta);
        Assert.Contains(entries, e => e.Path == "/w/z/b");
        Assert.Equal(await second, entries.Any(e => e.Path == "/w/z/b/late"));
    }

    /// <summary>Every entry's path is its parent's path and its name: nothing was left behind by a move or a delete.</summary>
    private static async Task<List<Data.EntryRecord>> AssertConsistentTree(MetadataHarness meta)
    {
        var entries = await meta.NamesAsync(n => n.Db.Entries.ToListAsync(Ct));
        var byId = entries.ToDictionary(e => e.Id);
        Assert.All(entries, e => Assert.Equal(
            (e.ParentId is { } parent ? Assert.Contains(parent, (IReadOnlyDictionary<Guid, Data.EntryRecord>)byId).Path : "") + "/" + e.Name, e.Path));
        return entries;
    }

    private static async Task<Files.CommittedFile?> Attempt(MetadataHarness meta, string path, ConflictPolicy policy, int i)
    {
        try { return await meta.CommitAsync(path, policy, Encoding.UTF8.GetBytes($"content {i}")); }
        catch (DfsProblemException e) when (e.Status == 409) { return null; }
    }

    private static async Task AssertProblem(int status, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<DfsProblemException>(action);
        Assert.Equal(status, e.Status);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
