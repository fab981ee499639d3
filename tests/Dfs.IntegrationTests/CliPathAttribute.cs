namespace Dfs.IntegrationTests;

/// <summary>Where the build put dfs.dll (set by the project file), so tests run the real CLI as a process.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class CliPathAttribute(string path) : Attribute
{
    public string Path { get; } = path;
}
