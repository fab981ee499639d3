namespace Dfs.AppHost.Dashboard;

/// <summary>Where the dashboard listens (127.0.0.1:Port; 0 = a free port) and the token that opens it (null = a random one).</summary>
internal sealed record DashboardSettings(int Port, string? Token);
