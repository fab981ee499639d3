using Dfs.ServiceDefaults;
using Dfs.StorageNode.Hosting;

// Content root = the app's folder, so appsettings.json is found whatever the working directory of the launcher.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddStorageNode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapStorageNode();
await app.RunAsync();

public partial class Program;
