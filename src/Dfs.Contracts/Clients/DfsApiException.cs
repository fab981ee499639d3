using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;

namespace Dfs.Contracts.Clients;

/// <summary>A non-success answer from a Dfs service, with its problem details when it sent them.</summary>
public sealed class DfsApiException(HttpStatusCode statusCode, ApiProblem? problem, string message)
    : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;
    public ApiProblem? Problem { get; } = problem;

    /// <summary>Worth retrying: the server was busy or failed, not the request. A 507 is not: a full cluster or an exceeded quota stays so.</summary>
    public bool IsTransient => ((int)StatusCode >= 500 && StatusCode != HttpStatusCode.InsufficientStorage) || StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>507 because the owner's quota is used up (not a cluster out of space).</summary>
    public bool IsQuotaExceeded => StatusCode == HttpStatusCode.InsufficientStorage && Problem?.Title == QuotaExceededTitle;

    /// <summary>The problem title of a 507 for an exceeded quota.</summary>
    public const string QuotaExceededTitle = "Quota exceeded";

    public static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        throw await FromResponseAsync(response, ct);
    }

    /// <summary>The exception a failed answer stands for, with its problem details when it sent them.</summary>
    public static async Task<DfsApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var problem = await ReadProblemAsync(response, ct);
        var detail = problem?.Detail ?? problem?.Title ?? response.ReasonPhrase ?? "request failed";
        return new DfsApiException(response.StatusCode, problem, $"{(int)response.StatusCode} {response.StatusCode}: {detail}");
    }

    /// <summary>The problem details of an answer, or null when it has none (or they are not JSON).</summary>
    public static async Task<ApiProblem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)) return null;
        try { return await response.Content.ReadFromJsonAsync(DfsJsonContext.Default.ApiProblem, ct); }
        catch (System.Text.Json.JsonException) { return null; }
        catch (HttpRequestException) { return null; }
    }
}
