using System.CommandLine;
using System.Net.Http.Headers;
using Dfs.Cli.Configuration;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Paths;

namespace Dfs.Cli.Commands;

/// <summary>
/// State shared by the commands of one `dfs` run (or one shell session): environment, current remote
/// folder, the gateway client, and the command tree itself.
/// </summary>
internal sealed class CliSession(CliEnvironment env) : IDisposable
{
    private HttpClient? _http;
    private IGatewayApi? _client;
    private RootCommand? _root;
    private Uri? _clientUrl;
    private string? _home;

    public CliEnvironment Env => env;
    public CliOutput Output { get; } = new(env);

    /// <summary>Current remote folder; "/" outside the shell, changed by the shell's `cd`.</summary>
    public string CurrentDirectory { get; set; } = DfsPath.Root;

    /// <summary>The gateway given to `dfs --gateway URL shell`, inherited by the commands typed in the shell.</summary>
    public string? GatewayOverride { get; set; }

    public bool InShell { get; set; }

    /// <summary>The gateway in use, once a command has asked for it; used in error messages.</summary>
    public GatewayEndpoint? Gateway { get; private set; }

    /// <summary>Options every command accepts (declared recursive on the root).</summary>
    public GlobalOptions Globals { get; } = new();

    /// <summary>The command tree, built once per session so the shell dispatches to the very same commands.</summary>
    public RootCommand Root => _root ??= CommandTree.Build(this);

    /// <summary>The credential the current client sends (see <see cref="Credentials"/>); used in error messages.</summary>
    public GatewayCredential? Credential { get; private set; }

    public CredentialStore CredentialStore => new(env.ConfigDirectory, Output.Error);

    public IGatewayApi GetClient(ParseResult parse) => GetClient(parse.GetValue(Globals.Gateway));

    public IGatewayApi GetClient(string? gatewayFlag)
    {
        var endpoint = Locate(gatewayFlag);
        if (_client is not null && _clientUrl == endpoint.Url)
        {
            Gateway = endpoint;
            return _client;
        }

        var credential = Credentials.Resolve(endpoint.Url, env.GetEnvironmentVariable, CredentialStore, env.Time.GetUtcNow());
        _http?.Dispose();
        _http = CreateHttpClient(endpoint, credential.Authorization);
        _client = DfsRefit.Gateway(_http);
        _clientUrl = endpoint.Url;
        _home = null;
        Gateway = endpoint;
        Credential = credential;
        return _client;
    }

    /// <summary>The gateway a command talks to, from --gateway, the shell's gateway, $DFS_GATEWAY or cluster.json.</summary>
    public GatewayEndpoint Locate(string? gatewayFlag) => GatewayLocator.Locate(gatewayFlag ?? GatewayOverride, env.GetEnvironmentVariable);

    /// <summary>
    /// A client with exactly <paramref name="authorization"/>, for login and logout, which must not send the usual
    /// credential. The caller disposes the returned HttpClient.
    /// </summary>
    public (HttpClient Http, IGatewayApi Client) Connect(GatewayEndpoint endpoint, AuthenticationHeaderValue? authorization)
    {
        Gateway = endpoint;
        var http = CreateHttpClient(endpoint, authorization);
        return (http, DfsRefit.Gateway(http));
    }

    /// <summary>Drops the cached client, so the next command picks its credential afresh (after login or logout).</summary>
    public void ForgetClient()
    {
        _http?.Dispose();
        _http = null;
        _client = null;
        _home = null;
        Credential = null;
    }

    /// <summary>
    /// The caller's home from whoami, or null without credentials or when the gateway cannot tell (no gateway,
    /// unreachable, refused): the shell's bare `cd` then goes to "/" as before.
    /// </summary>
    public async Task<string?> TryGetHomeAsync(CancellationToken ct)
    {
        try
        {
            var client = GetClient((string?)null);
            if (_home is not null || Credential?.Authorization is null) return _home;
            var me = await RetryAsync(client.WhoAmIAsync, ct);
            return _home = me.Home;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private HttpClient CreateHttpClient(GatewayEndpoint endpoint, AuthenticationHeaderValue? authorization)
    {
        var handler = env.HttpHandlerFactory?.Invoke() ?? new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        // No overall timeout: a transfer lasts as long as the file needs; metadata calls are bounded per attempt by RetryPolicy.
        var http = new HttpClient(handler) { BaseAddress = endpoint.Url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("dfs-cli/1.0");
        http.DefaultRequestHeaders.Authorization = authorization;
        return http;
    }

    /// <summary>Resolves a remote path typed by the user against the current remote folder.</summary>
    public string ResolveRemote(string? path) =>
        string.IsNullOrEmpty(path) ? CurrentDirectory : DfsPath.Resolve(CurrentDirectory, path);

    public string ResolveLocal(string path) => Path.GetFullPath(path, env.LocalDirectory);

    /// <summary>Retries an idempotent metadata call (bounded per attempt).</summary>
    public Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken ct) =>
        env.Retry.RunAsync(operation, bounded: true, Output.RetryNotice, ct);

    /// <summary>Stat that answers null for a missing path instead of throwing.</summary>
    public async Task<EntryDetails?> TryStatAsync(IGatewayApi client, string path, CancellationToken ct)
    {
        try { return await RetryAsync(c => client.StatAsync(path, c), ct); }
        catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound) { return null; }
    }

    /// <summary>
    /// Target for put/mv: a raw path ending in '/', the root, or an existing directory means "inside it, keeping
    /// <paramref name="name"/>"; no path means the current folder; anything else is the target itself.
    /// </summary>
    public async Task<string> ResolveTargetAsync(IGatewayApi client, string? raw, string name, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(raw)) return DfsPath.Combine(CurrentDirectory, name);
        var resolved = ResolveRemote(raw);
        if (raw.EndsWith('/') || resolved == DfsPath.Root) return DfsPath.Combine(resolved, name);
        var existing = await TryStatAsync(client, resolved, ct);
        return existing?.Kind == EntryKind.Directory ? DfsPath.Combine(resolved, name) : resolved;
    }

    public void Dispose() => _http?.Dispose();
}
