using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.S3.Multipart;

/// <summary>An S3 multipart upload in progress: the object it will become and what it will be stored with.</summary>
public sealed class MultipartUploadRecord
{
    public required string Id { get; set; }
    /// <summary>The Dfs path of the object (bucket folder + key).</summary>
    public required string Path { get; set; }
    public Guid UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Content-Type and x-amz-meta-* given at CreateMultipartUpload (JSON), as <see cref="Data.FileVersionRecord.ObjectHeaders"/>.</summary>
    public string? ObjectHeaders { get; set; }
}

/// <summary>One uploaded part: its bytes are chunks on the nodes (<see cref="MultipartPartChunkRecord"/>), kept from collection by these rows.</summary>
public sealed class MultipartPartRecord
{
    public required string UploadId { get; set; }
    public int PartNumber { get; set; }
    public long Size { get; set; }
    public required string Md5 { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class MultipartPartChunkRecord
{
    public required string UploadId { get; set; }
    public int PartNumber { get; set; }
    public int Index { get; set; }
    public required string ChunkId { get; set; }
    /// <summary>Offset within the part.</summary>
    public long Offset { get; set; }
    public long Size { get; set; }
}

internal static class MultipartModel
{
    /// <summary>Mirrors the MultipartUploads migration.</summary>
    public static void Configure(ModelBuilder model)
    {
        model.Entity<MultipartUploadRecord>(e =>
        {
            e.ToTable("multipart_uploads");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Path);
        });
        model.Entity<MultipartPartRecord>(e =>
        {
            e.ToTable("multipart_parts");
            e.HasKey(x => new { x.UploadId, x.PartNumber });
        });
        model.Entity<MultipartPartChunkRecord>(e =>
        {
            e.ToTable("multipart_part_chunks");
            e.HasKey(x => new { x.UploadId, x.PartNumber, x.Index });
            e.HasIndex(x => x.ChunkId);
        });
    }
}
