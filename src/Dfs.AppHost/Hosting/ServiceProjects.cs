using System.Reflection;
using Dfs.AppHost.Model;

namespace Dfs.AppHost.Hosting;

/// <summary>Finds the services' dlls (stamped into this assembly at build time) and the dotnet host to run them with.</summary>
public static class ServiceProjects
{
    private static readonly Assembly Self = typeof(ServiceProjects).Assembly;

    /// <summary>Debug or Release: the configuration this AppHost was built in, which the stamped paths point at.</summary>
    public static string BuiltConfiguration { get; } =
        Self.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Debug";

    public static IReadOnlyDictionary<string, string> All { get; } =
        Self.GetCustomAttributes<ServiceProjectAttribute>().ToDictionary(a => a.Name, a => Path.GetFullPath(a.DllPath), StringComparer.Ordinal);

    /// <summary>The dll of a service project, in <paramref name="configuration"/>'s build output when given.</summary>
    public static string ResolveDll(string name, string? configuration)
    {
        if (!All.TryGetValue(name, out var path))
            throw new InvalidOperationException($"No service project named '{name}' is stamped into the AppHost (known: {string.Join(", ", All.Keys)}).");
        if (configuration is null || string.Equals(configuration, BuiltConfiguration, StringComparison.Ordinal)) return path;
        var sep = Path.DirectorySeparatorChar;
        var built = $"{sep}bin{sep}{BuiltConfiguration}{sep}";
        var index = path.LastIndexOf(built, StringComparison.Ordinal);
        return index < 0 ? path : string.Concat(path.AsSpan(0, index), $"{sep}bin{sep}{configuration}{sep}", path.AsSpan(index + built.Length));
    }

    /// <summary>The dotnet host: ours when we run under it, else the SDK's (DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        return "dotnet";
    }

    /// <summary>Development when the AppHost itself runs in Development, else Production.</summary>
    public static string ChildEnvironmentName()
    {
        var own = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT");
        return string.Equals(own, "Development", StringComparison.OrdinalIgnoreCase) ? "Development" : "Production";
    }
}
