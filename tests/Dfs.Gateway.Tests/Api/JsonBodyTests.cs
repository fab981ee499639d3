using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// Every JSON endpoint (besides /api/move, in BadInputTests) answers a body it cannot read with a 400 or 415
/// problem that says what was wrong, and changes nothing. In Production too, where the framework would otherwise
/// answer a bare status.
/// </summary>
public sealed class JsonBodyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Environments => new() { "Development", "Production" };

    private sealed record Case(string Method, string Url, string? ContentType, string Body, HttpStatusCode Status, string Title, string Detail);

    private const string Json = "application/json";

    private static readonly Case[] Cases =
    [
        // Tokens: an empty body is allowed (defaults), so no empty-body case.
        new("POST", "/api/auth/tokens", Json, "{\"name\": ", HttpStatusCode.BadRequest, "Invalid JSON", "There is an open JSON object or array that should be closed. Path: $.name"),
        new("POST", "/api/auth/tokens", Json, "{\"name\": 5}", HttpStatusCode.BadRequest, "Invalid JSON", "$.name"),
        new("POST", "/api/auth/tokens", Json, "{\"ttlHours\": \"soon\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.ttlHours"),
        new("POST", "/api/auth/tokens", Json, "[]", HttpStatusCode.BadRequest, "Invalid JSON", "Path: $"),
        new("POST", "/api/auth/tokens", "text/plain", "{\"name\": \"t\"}", HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json (not text/plain)"),

        new("POST", "/api/auth/password", Json, "{\"currentPassword\": \"x", HttpStatusCode.BadRequest, "Invalid JSON", "reached end of data. Path: $.currentPassword"),
        new("POST", "/api/auth/password", Json, "{\"currentPassword\": 5, \"newPassword\": \"n\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.currentPassword"),
        new("POST", "/api/auth/password", Json, "[\"a\", \"b\"]", HttpStatusCode.BadRequest, "Invalid JSON", "Path: $"),
        new("POST", "/api/auth/password", Json, "", HttpStatusCode.BadRequest, "Invalid password change", "The body must be JSON"),
        new("POST", "/api/auth/password", Json, "null", HttpStatusCode.BadRequest, "Invalid password change", "The body must be JSON"),
        new("POST", "/api/auth/password", "text/plain", "{}", HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json (not text/plain)"),

        new("POST", "/api/users", Json, "{\"name\": \"carol\",", HttpStatusCode.BadRequest, "Invalid JSON", "reached end of data"),
        new("POST", "/api/users", Json, "{\"name\": 5}", HttpStatusCode.BadRequest, "Invalid JSON", "$.name"),
        new("POST", "/api/users", Json, "{\"name\": \"carol\", \"isAdmin\": \"yes\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.isAdmin"),
        new("POST", "/api/users", Json, "[{\"name\": \"carol\"}]", HttpStatusCode.BadRequest, "Invalid JSON", "Path: $"),
        new("POST", "/api/users", Json, "{\"name\": \"carol\"} trailing", HttpStatusCode.BadRequest, "Invalid JSON", "'t' is invalid after a single JSON value"),
        new("POST", "/api/users", Json, "", HttpStatusCode.BadRequest, "Invalid user", "The body must be JSON"),
        new("POST", "/api/users", "text/plain", "{\"name\": \"carol\"}", HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json (not text/plain)"),
        new("POST", "/api/users", null, "{\"name\": \"carol\"}", HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "(this request has no Content-Type)"),

        new("PATCH", "/api/users/bob", Json, "{\"isAdmin\": tru", HttpStatusCode.BadRequest, "Invalid JSON", "'tru' is an invalid JSON literal"),
        new("PATCH", "/api/users/bob", Json, "{\"isAdmin\": \"yes\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.isAdmin"),
        new("PATCH", "/api/users/bob", Json, "{\"quotaBytes\": \"lots\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.quotaBytes"),
        new("PATCH", "/api/users/bob", Json, "[]", HttpStatusCode.BadRequest, "Invalid JSON", "Path: $"),
        new("PATCH", "/api/users/bob", Json, "", HttpStatusCode.BadRequest, "Invalid update", "The body must be JSON"),
        new("PATCH", "/api/users/bob", "text/plain", "{\"isAdmin\": true}", HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json (not text/plain)"),

        new("POST", "/api/shares", Json, "{\"path\": \"/projects\", \"user\": ", HttpStatusCode.BadRequest, "Invalid JSON", "There is an open JSON object or array that should be closed"),
        new("POST", "/api/shares", Json, "{\"path\": 5, \"user\": \"bob\", \"access\": \"read\"}", HttpStatusCode.BadRequest, "Invalid JSON", "$.path"),
        new("POST", "/api/shares", Json, "[]", HttpStatusCode.BadRequest, "Invalid JSON", "Path: $"),
        new("POST", "/api/shares", Json, "", HttpStatusCode.BadRequest, "Invalid share", "The body must be JSON"),
        new("POST", "/api/shares", "text/plain", "{\"path\": \"/projects\", \"user\": \"bob\", \"access\": \"readwrite\"}",
            HttpStatusCode.UnsupportedMediaType, "Unsupported Media Type", "The body must be JSON, sent with Content-Type: application/json (not text/plain)"),
    ];

    [Theory, MemberData(nameof(Environments))]
    public async Task Unreadable_json_bodies_are_problems_on_every_json_endpoint_and_change_nothing(string environment)
    {
        await using var factory = new GatewayFactory().With("environment", environment);
        factory.StartServer();
        Assert.Equal(environment, factory.Services.GetRequiredService<IHostEnvironment>().EnvironmentName);
        var bob = await AuthKit.CreateUserAsync(factory, "bob");
        using var http = factory.CreateClient();
        var admin = DfsRefit.Gateway(http);
        await admin.MkdirAsync("/projects", parents: true, Ct);
        await admin.CreateShareAsync("/projects", "bob", ShareAccess.Read, Ct);
        await admin.CreateTokenAsync("existing", ct: Ct);
        var before = await SnapshotAsync(http);

        var failures = new List<string>();
        foreach (var c in Cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(c.Body)) };
            if (c.ContentType is not null) request.Content.Headers.ContentType = new(c.ContentType);
            using var response = await http.SendAsync(request, Ct);
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                ? await response.Content.ReadFromJsonAsync<ApiProblem>(Ct)
                : null;
            if (response.StatusCode != c.Status || problem is null || problem.Status != (int)c.Status || problem.Title != c.Title
                || problem.Detail?.Contains(c.Detail, StringComparison.Ordinal) != true)
                failures.Add($"{c.Method} {c.Url} [{c.ContentType}] {c.Body} -> {(int)response.StatusCode} {response.Content.Headers.ContentType} " +
                             $"{await response.Content.ReadAsStringAsync(Ct)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // Nothing changed: users, tokens, shares as before, and both passwords still the ones they were.
        Assert.Equal(before, await SnapshotAsync(http));
        Assert.Equal("bob", (await bob.WhoAmIAsync(Ct)).Name);
    }

    private static async Task<string> SnapshotAsync(HttpClient http) => string.Join('\n',
        await http.GetStringAsync("/api/users", Ct),
        await http.GetStringAsync("/api/auth/tokens", Ct),
        await http.GetStringAsync("/api/shares?all=true", Ct));
}
