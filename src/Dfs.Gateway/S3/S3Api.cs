using Dfs.Gateway.Auth;
using Dfs.Gateway.Auth.AccessKeys;
using Dfs.Gateway.Http;
using Dfs.Gateway.S3.Signing;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.S3;

/// <summary>
/// The S3 API: every request to the gateway's S3 port (Dfs:Gateway:S3Port, the AppHost's endpoint "s3") is S3's, from
/// the root of the port, whatever its path (a bucket may be named "api" or "console"). It branches off before the Dfs
/// API's middleware: its own authentication (AWS Signature V4 with a user's access key), its own errors (S3's XML).
/// </summary>
public static class S3Api
{
    public static WebApplicationBuilder AddS3Api(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<S3Operations>();
        // Requests that did not say where the S3 port is still get one when the gateway picks its own addresses.
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var port = context.Configuration.GetValue<int?>($"{GatewayOptions.Section}:{nameof(GatewayOptions.S3Port)}");
            if (port is { } p && !ServiceDefaults.ClusterTrustExtensions.HasConfiguredAddresses(context.Configuration))
                kestrel.Listen(System.Net.IPAddress.Loopback, p);
        });
        return builder;
    }

    /// <summary>Call first in the pipeline: requests on the S3 port never reach the Dfs API's middleware or endpoints.</summary>
    public static WebApplication UseS3Api(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.S3Port is not { } port) return app;
        app.MapWhen(context => context.Connection.LocalPort == port, s3 => s3.Run(HandleAsync));
        return app;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
        S3Target? target = null;
        CloseWhenNotContinued(context);
        try
        {
            target = S3Target.Resolve(context, options.S3Domain);
            await AuthenticateAsync(context);
            await context.RequestServices.GetRequiredService<S3Operations>().DispatchAsync(context, target);
        }
        catch (Exception e) when (Translate(e, target) is { } error && !context.Response.HasStarted)
        {
            await S3Xml.WriteErrorAsync(context, error, target?.Resource ?? context.Request.Path);
        }
        catch (Exception e) when (e is S3Exception or DfsProblemException && context.Response.HasStarted)
        {
            // Bytes already went out: cut the connection so the client sees a failed transfer, never wrong or missing bytes.
            context.Abort();
        }
    }

    /// <summary>
    /// A request sent with "Expect: 100-continue" that is answered without "100 Continue" (an empty body, which Kestrel
    /// never continues, or an error before the body is read) ends its connection. The AWS CLI (2.9, Debian 12's, at least)
    /// keeps the final status of such an answer and takes it as the status of the next request it sends on the same
    /// connection: that answer's headers then fail to parse and the CLI waits a minute for a read time-out, then retries.
    /// A new connection costs far less.
    /// </summary>
    private static void CloseWhenNotContinued(HttpContext context)
    {
        if (!context.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase)) return;
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            if (http.Request.ContentLength == 0 || http.Response.StatusCode >= StatusCodes.Status300MultipleChoices)
                http.Response.Headers.Connection = "close";
            return Task.CompletedTask;
        }, context);
    }

    /// <summary>Who signed the request: anonymous requests are refused (403), as is a key that is unknown, revoked or wrongly used.</summary>
    private static async Task AuthenticateAsync(HttpContext context)
    {
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        var claim = SigV4.Parse(context.Request, clock.GetUtcNow())
            ?? throw S3Exception.AccessDenied("Anonymous requests are refused: sign requests with an access key (dfs user keys create).");
        var keys = context.RequestServices.GetRequiredService<AccessKeyService>();
        var credential = await keys.FindAsync(claim.Scope.AccessKeyId, context.RequestAborted) ?? throw S3Exception.InvalidAccessKeyId();
        var signingKey = SigV4.SigningKey(credential.Secret, claim.Scope);
        SigV4.Verify(claim, context.Request, signingKey);
        await keys.MarkUsedAsync(claim.Scope.AccessKeyId, context.RequestAborted);
        context.Items[typeof(Caller)] = credential.Caller;
        context.Items[typeof(S3Signature)] = new S3Signature(claim, signingKey);
    }

    /// <summary>The S3 answer for a refusal that came from the Dfs layers below (access, namespace, uploads).</summary>
    private static S3Exception? Translate(Exception e, S3Target? target) => e switch
    {
        S3Exception s3 => s3,
        DfsProblemException { Status: StatusCodes.Status403Forbidden } p => S3Exception.AccessDenied(p.Message),
        DfsProblemException { Status: StatusCodes.Status404NotFound } p => target?.Key is null
            ? new S3Exception(StatusCodes.Status404NotFound, "NoSuchBucket", p.Message)
            : new S3Exception(StatusCodes.Status404NotFound, "NoSuchKey", p.Message),
        DfsProblemException { Status: StatusCodes.Status400BadRequest, Title: "Digest mismatch" } p => S3Exception.BadDigest(p.Message),
        DfsProblemException { Status: StatusCodes.Status400BadRequest } p => S3Exception.InvalidArgument(p.Message),
        DfsProblemException { Status: StatusCodes.Status409Conflict } p => new S3Exception(StatusCodes.Status409Conflict, "OperationAborted", p.Message),
        DfsProblemException { Status: StatusCodes.Status416RangeNotSatisfiable } p => new S3Exception(p.Status, "InvalidRange", "The requested range is not satisfiable: " + p.Message),
        DfsProblemException { Status: StatusCodes.Status507InsufficientStorage } p => new S3Exception(p.Status, "InsufficientStorage", p.Message),
        DfsProblemException { Status: StatusCodes.Status413PayloadTooLarge } p => new S3Exception(p.Status, "EntityTooLarge", p.Message),
        DfsProblemException p when p.Status >= 500 => new S3Exception(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", p.Message),
        DfsProblemException p => new S3Exception(p.Status, "InvalidRequest", p.Message),
        BadHttpRequestException b => new S3Exception(StatusCodes.Status400BadRequest, "IncompleteBody", b.Message),
        _ => null,
    };

    /// <summary>
    /// The S3 API in the gateway's OpenAPI document: one entry per path shape, matched only on the S3 port (the branch in
    /// <see cref="UseS3Api"/> answers before these would run). The operation is chosen by method, query and headers, as on S3.
    /// </summary>
    public static WebApplication MapS3Documentation(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.S3Port is not { } port) return app;
        var host = $"*:{port}";
        static IResult OnlyOnS3Port() => Results.NotFound();
        app.MapGet("/", OnlyOnS3Port).RequireHost(host).WithTags("S3").WithName("S3Service")
            .WithSummary("S3 ListBuckets (on the S3 endpoint; virtual-host style: ListObjects of the bucket in the Host name).")
            .Produces(StatusCodes.Status200OK, contentType: "application/xml");
        app.MapMethods("/{bucket}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Post], OnlyOnS3Port)
            .RequireHost(host).WithTags("S3").WithName("S3Bucket")
            .WithSummary("S3 bucket operations: GET ListObjectsV2 (list-type=2) / ListObjects / ?location / ?uploads (ListMultipartUploads); " +
                         "HEAD HeadBucket; PUT CreateBucket; DELETE DeleteBucket; POST ?delete DeleteObjects. A bucket is a top-level folder.")
            .Produces(StatusCodes.Status200OK, contentType: "application/xml");
        app.MapMethods("/{bucket}/{**key}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Post], OnlyOnS3Port)
            .RequireHost(host).WithTags("S3").WithName("S3Object")
            .WithSummary("S3 object operations: GET GetObject (Range, If-Match, If-None-Match, If-Modified-Since) / ?uploadId ListParts; HEAD HeadObject; " +
                         "PUT PutObject (Content-MD5, x-amz-checksum-*, aws-chunked) / CopyObject (x-amz-copy-source) / ?partNumber&uploadId UploadPart / UploadPartCopy (x-amz-copy-source, x-amz-copy-source-range); " +
                         "DELETE DeleteObject / ?uploadId AbortMultipartUpload; POST ?uploads CreateMultipartUpload / ?uploadId CompleteMultipartUpload. " +
                         "Signed with AWS Signature V4 (header or presigned URL) by a user's access key.")
            .Produces(StatusCodes.Status200OK);
        return app;
    }
}

/// <summary>The request's verified signature: what aws-chunked bodies are checked against.</summary>
public sealed record S3Signature(SigV4Claim Claim, byte[] SigningKey);
