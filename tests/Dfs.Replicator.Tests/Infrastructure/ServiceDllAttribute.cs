using System.Reflection;

namespace Dfs.Replicator.Tests.Infrastructure;

/// <summary>Where a service's built dll is, set by the test project (paths resolved at build time).</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ServiceDllAttribute(string name, string path) : Attribute
{
    public string Name { get; } = name;
    public string Path { get; } = path;

    public static string Find(string name)
    {
        var path = typeof(ServiceDllAttribute).Assembly.GetCustomAttributes<ServiceDllAttribute>()
            .SingleOrDefault(a => a.Name == name)?.Path
            ?? throw new InvalidOperationException($"No ServiceDll attribute named {name}.");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {name} first: {path} does not exist.", path);
    }
}
