namespace Dfs.Replicator.Hosting;

/// <summary>
/// Where the gateway's internal API is. Read each time a gateway client is created, so a host that learns
/// its own address late (the gateway, embedding the Replicator, knows it only once Kestrel is bound) can
/// register an implementation that answers once it knows.
/// </summary>
public interface IGatewayAddress
{
    Uri Current { get; }
}

/// <summary>
/// The default: Configuration["services:gateway:https:0"] when the gateway serves HTTPS, else
/// Configuration["services:gateway:http:0"], the way an Aspire-style AppHost passes it.
/// </summary>
public sealed class ConfigurationGatewayAddress(IConfiguration configuration) : IGatewayAddress
{
    public const string Key = "services:gateway:http:0";
    public const string HttpsKey = "services:gateway:https:0";

    public Uri Current
    {
        get
        {
            var value = configuration[HttpsKey] is { Length: > 0 } https ? https : configuration[Key];
            if (string.IsNullOrWhiteSpace(value))
                throw new InvalidOperationException(
                    $"The gateway's address is not configured: set {Key} (environment variable services__gateway__http__0), e.g. http://127.0.0.1:5000.");
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new InvalidOperationException($"{Key} must be an absolute http(s) URL; it is '{value}'.");
            return uri;
        }
    }
}
