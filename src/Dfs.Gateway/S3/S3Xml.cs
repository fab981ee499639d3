using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Dfs.Gateway.S3;

/// <summary>S3's XML documents: answers in S3's namespace, error documents without one (as AWS writes them).</summary>
internal static class S3Xml
{
    public static readonly XNamespace Ns = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static readonly XmlWriterSettings Settings = new() { Async = true, Encoding = new UTF8Encoding(false), Indent = false };

    public static XElement E(string name, params object?[] content) => new(Ns + name, content);

    /// <summary>S3's timestamps: ISO 8601 in UTC with milliseconds.</summary>
    public static string Time(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Quoted(string etag) => "\"" + etag + "\"";

    public static async Task WriteAsync(HttpContext context, XElement root, int status = StatusCodes.Status200OK)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/xml";
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await using var writer = XmlWriter.Create(response.Body, Settings);
        await new XDocument(new XDeclaration("1.0", "UTF-8", null), root).SaveAsync(writer, context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, S3Exception error, string resource)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = error.Status;
        // A HEAD answer has no body: clients read the status (and this header, which some print).
        response.Headers["x-amz-error-code"] = error.Code;
        if (HttpMethods.IsHead(context.Request.Method)) return Task.CompletedTask;
        response.ContentType = "application/xml";
        var document = new XElement("Error",
            new XElement("Code", error.Code),
            new XElement("Message", error.Message),
            new XElement("Resource", resource),
            new XElement("RequestId", context.TraceIdentifier));
        return WriteDocumentAsync(response, document, context.RequestAborted);
    }

    private static async Task WriteDocumentAsync(HttpResponse response, XElement root, CancellationToken ct)
    {
        await using var writer = XmlWriter.Create(response.Body, Settings);
        await new XDocument(new XDeclaration("1.0", "UTF-8", null), root).SaveAsync(writer, ct);
    }

    /// <summary>Parses a small XML request body (DeleteObjects, CreateBucket, CompleteMultipartUpload); no DTDs, no external entities.</summary>
    public static XDocument Parse(Stream body)
    {
        try
        {
            using var reader = XmlReader.Create(body, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader, LoadOptions.None);
        }
        catch (XmlException)
        {
            throw new S3Exception(StatusCodes.Status400BadRequest, "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema.");
        }
    }

    /// <summary>The child elements named <paramref name="name"/>, in S3's namespace or none (clients send either).</summary>
    public static IEnumerable<XElement> Children(XElement parent, string name) => parent.Elements().Where(e => e.Name.LocalName == name);

    public static string? Child(XElement parent, string name) => Children(parent, name).FirstOrDefault()?.Value;
}
