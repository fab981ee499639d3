using System.Globalization;

namespace Dfs.AppHost.Resources;

/// <summary>Wiring between resources, named as in Aspire.</summary>
public static class ResourceExtensions
{
    /// <summary>Starts <paramref name="resource"/> only once <paramref name="dependency"/> is healthy (and stops it first).</summary>
    public static T WaitFor<T>(this T resource, ProcessResource dependency) where T : ProcessResource
    {
        resource.AddDependency(dependency);
        return resource;
    }

    public static T WithEnvironment<T>(this T resource, string name, string? value) where T : ProcessResource
    {
        resource.AddEnvironment(name, () => value);
        return resource;
    }

    /// <summary>Evaluated at each launch, so it can use values known only then (another resource's url).</summary>
    public static T WithEnvironment<T>(this T resource, string name, Func<string?> value) where T : ProcessResource
    {
        resource.AddEnvironment(name, value);
        return resource;
    }

    public static T WithEnvironment<T>(this T resource, string name, long value) where T : ProcessResource =>
        resource.WithEnvironment(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Aspire's references: ConnectionStrings__NAME for a resource with a connection string, and
    /// services__NAME__http__0 (services__NAME__https__0 when it serves HTTPS) for one with a url; either way, also waits for it.
    /// </summary>
    public static T WithReference<T>(this T resource, ProcessResource other) where T : ProcessResource
    {
        if (other is IResourceWithConnectionString withConnection)
            resource.AddEnvironment("ConnectionStrings__" + withConnection.ConnectionStringName, withConnection.GetConnectionString);
        else
        {
            var scheme = other is ProjectResource project ? project.Scheme : Uri.UriSchemeHttp;
            resource.AddEnvironment($"services__{other.Name}__{scheme}__0", () => other.Url?.ToString().TrimEnd('/'));
        }
        return resource.WaitFor(other);
    }

    public static ExecutableResource WithHealthCheck(this ExecutableResource resource, Func<CancellationToken, Task<bool>> check)
    {
        resource.HealthCheck = check;
        return resource;
    }
}
