using Dfs.Gateway;
using Dfs.ServiceDefaults;

// Content root = the app's folder, so appsettings.json is found whatever the working directory of the launcher.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddGateway();

var app = builder.Build();
await app.InitializeGatewayAsync();
app.MapDefaultEndpoints();
app.MapGateway();
await app.RunAsync();

public partial class Program;
