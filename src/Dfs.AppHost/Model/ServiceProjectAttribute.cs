namespace Dfs.AppHost.Model;

/// <summary>
/// Where a service project's built dll lives, stamped into the AppHost's assembly by its csproj so the
/// AppHost can start the service with `dotnet DLL` without knowing the repository layout at run time.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ServiceProjectAttribute(string name, string dllPath) : Attribute
{
    public string Name { get; } = name;
    public string DllPath { get; } = dllPath;
}
