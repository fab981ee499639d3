using System.Text;
using System.Text.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.Cli.Tests.Infrastructure;

/// <summary>
/// The gateway's authentication wire protocol (SECURITY.md): Basic and bearer credentials, tokens, whoami, users,
/// shares, access keys, plus a stat and a put that answer 403 and 507 like the gateway's access and quota checks. Every request
/// is recorded with its Authorization header and JSON body, so tests assert on what the CLI really sent.
/// </summary>
public sealed class FakeAuthGateway
{
    public sealed record Account(string Name, string Password, bool IsAdmin, long? QuotaBytes, long UsedBytes);

    public sealed record Token(string Value, string User, DateTime ExpiresAt, bool Revoked);

    public sealed record Received(string Method, string Path, string? Authorization, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    private static readonly DateTime Created = new(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Token> _tokens = new(StringComparer.Ordinal);
    private readonly List<ShareInfo> _shares = [];
    private readonly List<AccessKeyInfo> _keys = [];
    private readonly List<Received> _requests = [];

    public string GeneratedPassword { get; } = "Gen3rated-Passw0rd-Once";

    /// <summary>The secret of every access key this gateway creates.</summary>
    public string AccessKeySecret { get; } = "wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY";

    public IReadOnlyList<AccessKeyInfo> AccessKeys
    {
        get { lock (_keys) return [.. _keys]; }
    }

    public IReadOnlyList<Received> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    public IReadOnlyDictionary<string, Token> Tokens
    {
        get { lock (_tokens) return new Dictionary<string, Token>(_tokens); }
    }

    public FakeAuthGateway WithUser(string name, string password, bool isAdmin = false, long? quota = null, long used = 0)
    {
        _accounts[name] = new Account(name, password, isAdmin, quota, used);
        return this;
    }

    public FakeAuthGateway WithAccessKey(AccessKeyInfo key)
    {
        _keys.Add(key);
        return this;
    }

    public FakeAuthGateway WithShare(ShareInfo share)
    {
        _shares.Add(share);
        return this;
    }

    public void RevokeEveryToken()
    {
        lock (_tokens)
            foreach (var key in _tokens.Keys.ToList()) _tokens[key] = _tokens[key] with { Revoked = true };
    }

    /// <summary>The last request to <paramref name="path"/> (exact, without query) with <paramref name="method"/>.</summary>
    public Received Last(string method, string path) =>
        Requests.Last(r => r.Method == method && r.Path == path);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(ApiRoutes.AuthTokens, (HttpRequest request) => Handle(request.HttpContext, async (caller, body) =>
        {
            var ttl = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("ttlHours", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : 168;
            var token = new Token($"dfs_fake{Guid.NewGuid():N}", caller.Name, DateTime.UtcNow.AddHours(ttl), false);
            lock (_tokens) _tokens[token.Value] = token;
            await Task.CompletedTask;
            return Results.Created($"{ApiRoutes.AuthTokens}/{Guid.NewGuid()}", new TokenCreated(token.Value, Guid.NewGuid(), token.ExpiresAt, caller.Name));
        }));

        app.MapDelete(ApiRoutes.AuthTokensCurrent, (HttpRequest request) => Handle(request.HttpContext, (caller, _) =>
        {
            if (BearerOf(request.HttpContext) is not { } value)
                return Task.FromResult(Results.Problem(statusCode: 400, title: "No token", detail: "This request was authenticated with Basic."));
            lock (_tokens) _tokens[value] = _tokens[value] with { Revoked = true };
            return Task.FromResult(Results.NoContent());
        }));

        app.MapGet(ApiRoutes.WhoAmI, (HttpRequest request) => Handle(request.HttpContext, (caller, _) =>
            Task.FromResult(Results.Ok(new WhoAmI(caller.Name, caller.IsAdmin, Home(caller.Name), caller.QuotaBytes, caller.UsedBytes)))));

        app.MapPost(ApiRoutes.Password, (HttpRequest request) => Handle(request.HttpContext, (caller, body) =>
        {
            if (body.GetProperty("currentPassword").GetString() != caller.Password)
                return Task.FromResult(Results.Problem(statusCode: 400, title: "Wrong password", detail: "currentPassword is not your current password."));
            _accounts[caller.Name] = caller with { Password = body.GetProperty("newPassword").GetString()! };
            return Task.FromResult(Results.NoContent());
        }));

        app.MapGet(ApiRoutes.Users, (HttpRequest request) => Handle(request.HttpContext, admin: true, work: (_, _) =>
            Task.FromResult(Results.Ok(_accounts.Values.Select(Info).ToList()))));

        app.MapPost(ApiRoutes.Users, (HttpRequest request) => Handle(request.HttpContext, admin: true, work: (_, body) =>
        {
            var name = body.GetProperty("name").GetString()!;
            if (_accounts.ContainsKey(name))
                return Task.FromResult(Results.Problem(statusCode: 409, title: "User exists", detail: $"A user named '{name}' already exists."));
            var given = body.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var isAdmin = body.TryGetProperty("isAdmin", out var a) && a.ValueKind == JsonValueKind.True;
            long? quota = body.TryGetProperty("quotaBytes", out var q) && q.ValueKind == JsonValueKind.Number ? q.GetInt64() : null;
            var account = new Account(name, given ?? GeneratedPassword, isAdmin, quota, 0);
            _accounts[name] = account;
            var info = Info(account);
            return Task.FromResult(Results.Created(ApiRoutes.User(name),
                new UserCreated(info.Name, info.IsAdmin, info.Home, info.QuotaBytes, info.UsedBytes, info.CreatedAt, given is null ? GeneratedPassword : null)));
        }));

        app.MapMethods(ApiRoutes.Users + "/{name}", ["PATCH"], (string name, HttpContext http) => Handle(http, admin: true, work: (_, body) =>
        {
            if (!_accounts.TryGetValue(name, out var account))
                return Task.FromResult(Results.Problem(statusCode: 404, title: "No such user", detail: $"There is no user '{name}'."));
            if (body.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String) account = account with { Password = p.GetString()! };
            if (body.TryGetProperty("isAdmin", out var a) && a.ValueKind is JsonValueKind.True or JsonValueKind.False) account = account with { IsAdmin = a.GetBoolean() };
            if (body.TryGetProperty("quotaBytes", out var q) && q.ValueKind == JsonValueKind.Number) account = account with { QuotaBytes = q.GetInt64() };
            if (body.TryGetProperty("clearQuota", out var c) && c.ValueKind == JsonValueKind.True) account = account with { QuotaBytes = null };
            _accounts[name] = account;
            return Task.FromResult(Results.Ok(Info(account)));
        }));

        app.MapDelete(ApiRoutes.Users + "/{name}", (string name, HttpContext http) => Handle(http, admin: true, work: (_, _) =>
            Task.FromResult(_accounts.Remove(name)
                ? Results.NoContent()
                : Results.Problem(statusCode: 404, title: "No such user", detail: $"There is no user '{name}'."))));

        app.MapGet(ApiRoutes.Shares, (HttpRequest request) => Handle(request.HttpContext, (caller, _) =>
        {
            var all = request.Query["all"] == "true";
            if (all && !caller.IsAdmin) return Task.FromResult(Forbidden("Only an admin may do this."));
            var given = _shares.Where(s => all || s.Owner == caller.Name).ToList();
            var received = all ? [] : _shares.Where(s => s.Grantee == caller.Name).ToList();
            return Task.FromResult(Results.Ok(new ShareList(given, received)));
        }));

        app.MapPost(ApiRoutes.Shares, (HttpRequest request) => Handle(request.HttpContext, (caller, body) =>
        {
            var share = new ShareInfo(Guid.NewGuid(), body.GetProperty("path").GetString()!, caller.Name,
                body.GetProperty("user").GetString()!, body.GetProperty("access").GetString()!, Created);
            _shares.Add(share);
            return Task.FromResult(Results.Created(ApiRoutes.Share(share.Id), share));
        }));

        app.MapDelete(ApiRoutes.Shares + "/{id:guid}", (Guid id, HttpContext http) => Handle(http, (_, _) =>
            Task.FromResult(_shares.RemoveAll(s => s.Id == id) > 0
                ? Results.NoContent()
                : Results.Problem(statusCode: 404, title: "No such share", detail: $"There is no share {id}."))));

        app.MapPost(ApiRoutes.AccessKeys, (HttpRequest request) => Handle(request.HttpContext, (caller, body) =>
        {
            var user = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : caller.Name;
            var name = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            if (user != caller.Name && !caller.IsAdmin) return Task.FromResult(Forbidden("Only an admin may create another user's access keys."));
            if (!_accounts.ContainsKey(user))
                return Task.FromResult(Results.Problem(statusCode: 404, title: "Not found", detail: $"There is no user '{user}'."));
            var key = new AccessKeyInfo("DFS" + new string((char)('A' + _keys.Count), 17), user, name, Created, null);
            lock (_keys) _keys.Add(key);
            return Task.FromResult(Results.Created(ApiRoutes.AccessKey(key.Id), new AccessKeyCreated(key.Id, AccessKeySecret, key.User, key.Name, key.CreatedAt)));
        }));

        app.MapGet(ApiRoutes.AccessKeys, (HttpRequest request) => Handle(request.HttpContext, (caller, _) =>
        {
            var user = request.Query["user"].ToString();
            if (user.Length > 0 && user != caller.Name && !caller.IsAdmin) return Task.FromResult(Forbidden("Only an admin may list another user's access keys."));
            lock (_keys)
                return Task.FromResult(Results.Ok(_keys.Where(k => user.Length > 0 ? k.User == user : caller.IsAdmin || k.User == caller.Name).ToList()));
        }));

        app.MapDelete(ApiRoutes.AccessKeys + "/{id}", (string id, HttpContext http) => Handle(http, (caller, _) =>
        {
            lock (_keys)
                return Task.FromResult(_keys.RemoveAll(k => k.Id == id && (caller.IsAdmin || k.User == caller.Name)) > 0
                    ? Results.NoContent()
                    : Results.Problem(statusCode: 404, title: "Not found", detail: $"You have no access key {id}."));
        }));

        // Access rule of the gateway: a user reads only in their home (admins everywhere); 403 says nothing about existence.
        app.MapGet(ApiRoutes.Stat + "/{**path}", (string path, HttpContext http) => Handle(http, (caller, _) =>
        {
            var full = "/" + path;
            if (!caller.IsAdmin && full != Home(caller.Name) && !full.StartsWith(Home(caller.Name) + "/", StringComparison.Ordinal))
                return Task.FromResult(Forbidden($"You may not read {full}."));
            return Task.FromResult(Results.Ok(new EntryDetails(full, full[(full.LastIndexOf('/') + 1)..], EntryKind.Directory, 0, Created, Created,
                null, null, null, null, [])));
        }));

        // Every upload is over the caller's quota.
        app.MapPut(ApiRoutes.Files + "/{**path}", (string path, HttpContext http) => Handle(http, (caller, _) =>
            Task.FromResult(Results.Problem(statusCode: 507, title: DfsApiException.QuotaExceededTitle,
                detail: $"{caller.Name} has used {caller.UsedBytes} of a {caller.QuotaBytes}-byte quota; /{path} needs {http.Request.ContentLength} bytes. Nothing was committed."))));
    }

    private async Task<IResult> Handle(HttpContext http, Func<Account, JsonElement, Task<IResult>> work, bool admin = false)
    {
        var body = await new StreamReader(http.Request.Body, Encoding.UTF8).ReadToEndAsync(http.RequestAborted);
        var authorization = http.Request.Headers.Authorization.Count > 0 ? http.Request.Headers.Authorization.ToString() : null;
        lock (_requests) _requests.Add(new Received(http.Request.Method, http.Request.Path.Value!, authorization, body));

        var caller = Authenticate(authorization, out var failure);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"dfs\", Basic realm=\"dfs\"";
            return Results.Problem(statusCode: 401, title: "Unauthorized", detail: failure);
        }
        if (admin && !caller.IsAdmin) return Forbidden("Only an admin may do this.");
        var json = body.Length > 0 && http.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true
            ? JsonDocument.Parse(body).RootElement
            : default;
        return await work(caller, json);
    }

    private Account? Authenticate(string? authorization, out string failure)
    {
        failure = "Authentication is required: send Authorization: Bearer <token> or Basic.";
        if (authorization is null) return null;
        var space = authorization.IndexOf(' ');
        var (scheme, value) = space < 0 ? (authorization, "") : (authorization[..space], authorization[(space + 1)..]);
        if (scheme == "Bearer")
        {
            failure = "The token is unknown, expired or revoked.";
            lock (_tokens)
                return _tokens.TryGetValue(value, out var token) && !token.Revoked && token.ExpiresAt > DateTime.UtcNow
                    ? _accounts.GetValueOrDefault(token.User)
                    : null;
        }
        failure = "Wrong user name or password.";
        if (scheme != "Basic") return null;
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value));
        var colon = decoded.IndexOf(':');
        return colon > 0 && _accounts.TryGetValue(decoded[..colon], out var account) && account.Password == decoded[(colon + 1)..] ? account : null;
    }

    private static string? BearerOf(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : null;
    }

    private static UserInfo Info(Account account) =>
        new(account.Name, account.IsAdmin, Home(account.Name), account.QuotaBytes, account.UsedBytes, Created);

    private static string Home(string name) => $"/home/{name}";

    private static IResult Forbidden(string detail) => Results.Problem(statusCode: 403, title: "Forbidden", detail: detail);
}
