using Dfs.ServiceDefaults;
using Dfs.StorageNode.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStorageNode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapStorageNode();
app.Run();

public partial class Program;
