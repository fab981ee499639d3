namespace Dfs.StorageNode.Registration;

/// <summary>
/// The gateway's base URL from Aspire-style service discovery (services:gateway:https:0 when the gateway serves
/// HTTPS, else services:gateway:http:0); null: standalone.
/// </summary>
public sealed record GatewayEndpoint(Uri? Url)
{
    public const string ConfigurationKey = "services:gateway:http:0";
    public const string HttpsConfigurationKey = "services:gateway:https:0";

    public static GatewayEndpoint FromConfiguration(IConfiguration configuration)
    {
        var key = string.IsNullOrWhiteSpace(configuration[HttpsConfigurationKey]) ? ConfigurationKey : HttpsConfigurationKey;
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value)) return new GatewayEndpoint((Uri?)null);
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? new GatewayEndpoint(url)
            : throw new InvalidOperationException($"{key} must be an absolute http(s) URL, not '{value}'.");
    }
}
