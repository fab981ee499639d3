using Dfs.ServiceDefaults;

// The Replicator's consumers and reconciler arrive with the replication work; until then it starts,
// reports health, and is wired into the cluster like every other service.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/", () => TypedResults.Ok(new { service = "dfs-replicator" }));
await app.RunAsync();

public partial class Program;
