global using Dfs.AppHost.Hosting;
global using Dfs.AppHost.Model;
