using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;

namespace Dfs.AppHost.Tests;

public sealed class ServiceProjectsTests
{
    private static readonly char Sep = Path.DirectorySeparatorChar;

    [Fact]
    public void Every_service_project_is_stamped_into_the_apphost()
    {
        Assert.Equal(
            [ServiceProjectNames.Gateway, ServiceProjectNames.Replicator, ServiceProjectNames.StorageNode],
            ServiceProjects.All.Keys.Order());
        Assert.EndsWith($"{Sep}Dfs.Gateway{Sep}bin{Sep}{ServiceProjects.BuiltConfiguration}{Sep}net10.0{Sep}Dfs.Gateway.dll", ServiceProjects.ResolveDll("gateway", null));
        Assert.EndsWith("Dfs.StorageNode.dll", ServiceProjects.ResolveDll("storage-node", null));
        Assert.True(Path.IsPathFullyQualified(ServiceProjects.ResolveDll("replicator", null)));
    }

    [Fact]
    public void Another_configuration_points_at_that_build()
    {
        var other = ServiceProjects.BuiltConfiguration == "Release" ? "Debug" : "Release";

        var dll = ServiceProjects.ResolveDll("gateway", other);

        Assert.Contains($"{Sep}bin{Sep}{other}{Sep}", dll);
        Assert.DoesNotContain($"{Sep}bin{Sep}{ServiceProjects.BuiltConfiguration}{Sep}", dll);
        Assert.Equal(ServiceProjects.ResolveDll("gateway", null), ServiceProjects.ResolveDll("gateway", ServiceProjects.BuiltConfiguration));
    }

    [Fact]
    public void An_unknown_service_is_a_clear_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ServiceProjects.ResolveDll("frontend", null));
        Assert.Contains("gateway", e.Message);
    }

    [Fact]
    public void The_dotnet_host_is_found()
    {
        var host = ServiceProjects.DotnetHost();
        Assert.Equal("dotnet", Path.GetFileNameWithoutExtension(host));
    }
}
