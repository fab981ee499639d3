using Dfs.Contracts.Api;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Data;

/// <summary>
/// The metadata model. The same model runs on PostgreSQL (local/external profiles) and SQLite (embedded);
/// the schema comes from the hand-written migrations in Data/Migrations, which serve both providers.
/// </summary>
public sealed class MetadataDbContext(DbContextOptions<MetadataDbContext> options) : DbContext(options)
{
    public DbSet<EntryRecord> Entries => Set<EntryRecord>();
    public DbSet<FileVersionRecord> Versions => Set<FileVersionRecord>();
    public DbSet<VersionChunkRecord> VersionChunks => Set<VersionChunkRecord>();
    public DbSet<ChunkRecord> Chunks => Set<ChunkRecord>();
    public DbSet<InlineChunkRecord> InlineChunks => Set<InlineChunkRecord>();
    public DbSet<ReplicaRecord> Replicas => Set<ReplicaRecord>();
    public DbSet<NodeRecord> Nodes => Set<NodeRecord>();
    public DbSet<RemovedNodeRecord> RemovedNodes => Set<RemovedNodeRecord>();
    public DbSet<Auth.UserRecord> Users => Set<Auth.UserRecord>();
    public DbSet<Auth.TokenRecord> Tokens => Set<Auth.TokenRecord>();
    public DbSet<Auth.ShareRecord> Shares => Set<Auth.ShareRecord>();
    public DbSet<Auth.AccessKeys.AccessKeyRecord> AccessKeys => Set<Auth.AccessKeys.AccessKeyRecord>();
    public DbSet<S3.Multipart.MultipartUploadRecord> MultipartUploads => Set<S3.Multipart.MultipartUploadRecord>();
    public DbSet<S3.Multipart.MultipartPartRecord> MultipartParts => Set<S3.Multipart.MultipartPartRecord>();
    public DbSet<S3.Multipart.MultipartPartChunkRecord> MultipartPartChunks => Set<S3.Multipart.MultipartPartChunkRecord>();

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // SQLite keeps no time zone: every timestamp Dfs writes is UTC, so read it back as UTC.
        conventions.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<EntryRecord>(e =>
        {
            e.ToTable("entries");
            e.HasKey(x => x.Id);
            e.Property(x => x.Name).IsRequired();
            e.Property(x => x.Path).IsRequired();
            e.Property(x => x.Kind).HasConversion(k => k == EntryKind.Directory ? 1 : 0, v => v == 1 ? EntryKind.Directory : EntryKind.File);
            e.Property(x => x.Revision).IsConcurrencyToken();
            e.HasIndex(x => x.Path).IsUnique();
            e.HasIndex(x => new { x.ParentId, x.Name }).IsUnique();
        });
        model.Entity<FileVersionRecord>(e =>
        {
            e.ToTable("file_versions");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.FileId, x.Number }).IsUnique();
        });
        model.Entity<VersionChunkRecord>(e =>
        {
            e.ToTable("version_chunks");
            e.HasKey(x => new { x.VersionId, x.Index });
            e.HasIndex(x => x.ChunkId);
        });
        model.Entity<ChunkRecord>(e =>
        {
            e.ToTable("chunks");
            e.HasKey(x => x.Id);
        });
        model.Entity<InlineChunkRecord>(e =>
        {
            e.ToTable("inline_chunks");
            e.HasKey(x => x.ChunkId);
        });
        model.Entity<ReplicaRecord>(e =>
        {
            e.ToTable("replicas");
            e.HasKey(x => new { x.ChunkId, x.NodeId });
            e.HasIndex(x => x.NodeId);
        });
        model.Entity<NodeRecord>(e =>
        {
            e.ToTable("nodes");
            e.HasKey(x => x.Id);
        });
        model.Entity<RemovedNodeRecord>(e =>
        {
            e.ToTable("removed_nodes");
            e.HasKey(x => x.Id);
            e.Property(x => x.Name).IsRequired();
        });
        Auth.AuthModel.Configure(model);
        S3.Multipart.MultipartModel.Configure(model);
    }
}
