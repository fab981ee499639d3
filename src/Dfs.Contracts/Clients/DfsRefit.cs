using System.Reflection;
using Refit;

namespace Dfs.Contracts.Clients;

/// <summary>
/// How every Dfs Refit client reads and fails: JSON through <see cref="DfsJsonContext"/>, and a non-success answer as a
/// <see cref="DfsApiException"/> carrying the service's problem details (calls that return the
/// <see cref="HttpResponseMessage"/> itself get it unread, whatever its status). A transport failure surfaces as itself
/// (HttpRequestException, a timeout's OperationCanceledException), not wrapped: callers sort failures by what they are.
/// </summary>
public static class DfsRefit
{
    public static RefitSettings Settings { get; } = new(new SystemTextJsonContentSerializer(DfsJsonContext.Default.Options))
    {
        ExceptionFactory = async response => response.IsSuccessStatusCode ? null : await DfsApiException.FromResponseAsync(response, CancellationToken.None),
        TransportExceptionFactory = (_, exception, _) => exception,
        UrlParameterFormatter = new QueryValueFormatter(),
    };

    /// <summary>The public API over <paramref name="http"/> (its BaseAddress is the gateway; it carries the credentials).</summary>
    public static IGatewayApi Gateway(HttpClient http) => RestService.ForGenerated<IGatewayApi>(http, Settings);

    public static IGatewayInternalApi GatewayInternal(HttpClient http) => RestService.ForGenerated<IGatewayInternalApi>(http, Settings);

    public static IStorageNodeApi StorageNode(HttpClient http) => RestService.ForGenerated<IStorageNodeApi>(http, Settings);

    /// <summary>Query values as the gateway documents them: true/false, not .NET's True/False.</summary>
    private sealed class QueryValueFormatter : IUrlParameterFormatter
    {
        private static readonly DefaultUrlParameterFormatter Default = new();

        public string? Format(object? value, ICustomAttributeProvider attributeProvider, Type type) =>
            value is bool flag ? (flag ? "true" : "false") : Default.Format(value, attributeProvider, type);
    }
}
