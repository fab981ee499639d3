using Dfs.Replicator.Hosting;
using Dfs.ServiceDefaults;

namespace Dfs.Replicator;

/// <summary>
/// A named class, not top-level statements: the gateway references this assembly for the embedded profile,
/// and two global <c>Program</c> types would clash.
/// </summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        // Content root = the app's folder, whatever the working directory of the launcher.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddServiceDefaults();
        // Signs its calls to the gateway's internal API and to the nodes; listens on loopback unless told otherwise.
        builder.AddClusterTrust();
        builder.WebHost.UseLoopbackByDefault(port: 0);
        builder.AddReplicator();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/", () => TypedResults.Ok(new { service = "dfs-replicator" }));
        await app.RunAsync();
    }
}
