using System.Globalization;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dfs.StorageNode.Chunks;

/// <summary>/chunks: the node's whole data API. The gateway and the Replicator are its only intended callers.</summary>
public static class ChunkEndpoints
{
    private const string OctetStream = "application/octet-stream";
    private const int DefaultListLimit = 1000;
    private const int MaxListLimit = 10_000;

    public static IEndpointRouteBuilder MapChunkEndpoints(this IEndpointRouteBuilder app)
    {
        var chunks = app.MapGroup("/chunks").WithTags("Chunks");
        chunks.MapGet("", ListChunks);
        chunks.MapPut("{id}", PutChunk);
        chunks.MapMethods("{id}", [HttpMethods.Get, HttpMethods.Head], GetChunk);
        chunks.MapDelete("{id}", DeleteChunk);
        return app;
    }

    private static async Task<IResult> PutChunk(
        string id, HttpContext context, ChunkStore store, ChunkPipeline pipeline, IOptions<StorageNodeOptions> options, ILogger<ChunkStore> logger)
    {
        if (!ChunkIds.IsValid(id)) return BadId(id);
        IReadOnlyList<Uri>? downstream = null;
        var hop = TimeSpan.Zero;
        if (context.Request.Headers.TryGetValue(ChunkPipelineHeaders.Downstream, out var chain))
        {
            downstream = ChunkPipelineHeaders.ParseDownstream(chain.ToString());
            if (downstream is null)
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad pipeline",
                    detail: $"{ChunkPipelineHeaders.Downstream} must list 1 to {ChunkPipelineHeaders.MaxNodes - 1} absolute http(s) node URLs separated by spaces.");
            if (!int.TryParse(context.Request.Headers[ChunkPipelineHeaders.HopTimeout], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                || seconds is < 1 or > 3600)
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad pipeline",
                    detail: $"{ChunkPipelineHeaders.HopTimeout} must be a whole number of seconds from 1 to 3600.");
            hop = TimeSpan.FromSeconds(seconds);
        }

        using var activity = StorageNodeTelemetry.ActivitySource.StartActivity("chunk put");
        activity?.SetTag("dfs.chunk.id", id);

        var max = options.Value.MaxChunkBytes;
        // The store enforces MaxChunkBytes while streaming. Kestrel's own limit (30 MB by default) is lifted, not
        // lowered to ours: past its limit Kestrel drops the connection instead of draining the rest of a refused
        // body (a time-limited drain), and the client may then never read our 413/507.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;

        PutChunkOutcome outcome;
        ChunkPipelineResult? below = null;
        try
        {
            if (downstream is null)
                outcome = await store.PutAsync(id, context.Request.Body, context.Request.ContentLength, context.RequestAborted);
            else
                (outcome, below) = await pipeline.PutAsync(id, context.Request.Body, context.Request.ContentLength, downstream, hop, context.RequestAborted);
        }
        catch (ChunkBodyReadException e) when (e.InnerException is BadHttpRequestException bad)
        {
            return TypedResults.Problem(statusCode: bad.StatusCode, title: "The chunk's bytes could not be read", detail: bad.Message);
        }
        catch (Exception e) when (e is ChunkBodyReadException or OperationCanceledException)
        {
            // The client went away mid-body; nothing was kept. The answer most likely reaches nobody.
            logger.LogInformation("Upload of chunk {ChunkId} was interrupted: {Reason}", id, e.InnerException?.Message ?? e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The upload was interrupted");
        }

        activity?.SetTag("dfs.chunk.outcome", outcome.ToString());
        if (below is not null && outcome is (PutChunkOutcome.Created or PutChunkOutcome.AlreadyExists))
        {
            // This copy is durable; the ones below it count only as far as the chain got without a gap.
            context.Response.Headers[ChunkPipelineHeaders.Copies] = (1 + below.Copies).ToString(CultureInfo.InvariantCulture);
            if (below.FailureKind is { } kind)
                context.Response.Headers[ChunkPipelineHeaders.Failure] = ChunkPipelineHeaders.FormatFailure(kind, below.Failure ?? "");
            activity?.SetTag("dfs.pipeline.copies", 1 + below.Copies);
        }
        return outcome switch
        {
            PutChunkOutcome.Created => TypedResults.Created($"/chunks/{id}"),
            PutChunkOutcome.AlreadyExists => TypedResults.Ok(),
            PutChunkOutcome.HashMismatch => TypedResults.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Integrity check failed",
                detail: $"The bytes do not hash to the id {id}; nothing was stored."),
            PutChunkOutcome.TooLarge => TypedResults.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Chunk too large",
                detail: $"A chunk may hold at most {max} bytes."),
            PutChunkOutcome.InsufficientStorage => TypedResults.Problem(
                statusCode: StatusCodes.Status507InsufficientStorage,
                title: "Insufficient storage",
                detail: "This node has no room for the chunk; nothing was stored."),
            _ => throw new InvalidOperationException($"Unexpected outcome {outcome}."),
        };
    }

    private static IResult GetChunk(string id, HttpContext context, ChunkStore store, StorageNodeMetrics metrics)
    {
        if (!ChunkIds.IsValid(id)) return BadId(id);
        var etag = new EntityTagHeaderValue($"\"{id}\"");

        if (HttpMethods.IsHead(context.Request.Method))
        {
            if (store.GetLength(id) is not { } length) return ChunkNotFound(id);
            var headers = context.Response.GetTypedHeaders();
            context.Response.ContentType = OctetStream;
            context.Response.ContentLength = length;
            headers.ETag = etag;
            context.Response.Headers.AcceptRanges = "bytes";
            return TypedResults.Empty;
        }

        if (store.OpenRead(id) is not { } stream) return ChunkNotFound(id);
        context.Response.OnCompleted(() =>
        {
            if (context.Response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent)
                metrics.BytesRead(context.Response.ContentLength ?? 0);
            return Task.CompletedTask;
        });
        // A chunk never changes, so its id is a perfect strong ETag.
        return TypedResults.File(stream, OctetStream, entityTag: etag, enableRangeProcessing: true);
    }

    private static IResult DeleteChunk(string id, ChunkStore store)
    {
        if (!ChunkIds.IsValid(id)) return BadId(id);
        return store.Delete(id) ? TypedResults.NoContent() : ChunkNotFound(id);
    }

    private static IResult ListChunks(string? after, string? limit, ChunkStore store)
    {
        var pageSize = DefaultListLimit;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxListLimit))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad limit",
                detail: $"limit must be a whole number from 1 to {MaxListLimit}.");
        }
        if (after is not null && !ChunkIds.IsValid(after))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad cursor",
                detail: "after must be a chunk id (64 lowercase hex characters).");
        }
        return TypedResults.Ok(store.List(after, pageSize));
    }

    private static IResult BadId(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Bad chunk id",
        detail: $"'{(id.Length > 80 ? id[..80] + "…" : id)}' is not a chunk id: expected 64 lowercase hex characters (the SHA-256 of the bytes).");

    private static IResult ChunkNotFound(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Chunk not found",
        detail: $"This node has no chunk {id}.");
}
