using Dfs.AppHost.Hosting;

return await DfsHost.RunAsync(args);
