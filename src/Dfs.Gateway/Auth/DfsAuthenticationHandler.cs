using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using Dfs.Gateway.Console;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>
/// One scheme for both credentials clients send: `Authorization: Bearer dfs_…` (a token) or `Basic` (user and
/// password, for curl). Challenges are 401 problem details naming both schemes; forbidden is a 403 problem.
/// Console requests (/console) may instead carry the token in the console's session cookie, checked exactly like
/// a bearer token; their challenge is the way to the sign-in page, and their refusals are pages.
/// </summary>
internal sealed class DfsAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "dfs";
    public const string Challenge = "Bearer realm=\"dfs\", Basic realm=\"dfs\"";
    private const string SessionEnded = "The console session has ended (signed out, expired or revoked): sign in again.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        var validator = Context.RequestServices.GetRequiredService<CredentialValidator>();
        Caller? caller;
        if (header.Count == 0)
        {
            if (ConsoleSession.TokenOf(Request) is not { } session) return AuthenticateResult.NoResult();
            caller = await validator.ValidateBearerAsync(session, Context.RequestAborted);
            return caller is null ? AuthenticateResult.Fail(SessionEnded) : Success(caller);
        }
        if (header.Count > 1 || !AuthenticationHeaderValue.TryParse(header.ToString(), out var value) || string.IsNullOrEmpty(value.Parameter))
            return AuthenticateResult.Fail("The Authorization header is malformed.");

        if (value.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            caller = await validator.ValidateBearerAsync(value.Parameter, Context.RequestAborted);
            if (caller is null) return AuthenticateResult.Fail("The token is unknown, expired or revoked.");
        }
        else if (value.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (!TryDecodeBasic(value.Parameter, out var user, out var password))
                return AuthenticateResult.Fail("The Basic credential is not base64 of user:password.");
            caller = await validator.ValidateBasicAsync(user, password, Context.RequestAborted);
            if (caller is null) return AuthenticateResult.Fail("Wrong user name or password.");
        }
        else
        {
            return AuthenticateResult.Fail($"Unsupported authorization scheme '{value.Scheme}': use Bearer or Basic.");
        }
        return Success(caller);
    }

    private static AuthenticateResult Success(Caller caller) =>
        AuthenticateResult.Success(new AuthenticationTicket(caller.ToPrincipal(SchemeName), SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (ConsoleSession.Covers(Request))
        {
            await ConsoleSession.ChallengeAsync(Context, sessionEnded: result.Failure is not null && Request.Headers.Authorization.Count == 0,
                result.Failure?.Message);
            return;
        }
        Response.Headers.WWWAuthenticate = Challenge;
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            result.Failure?.Message ?? "Authentication is required: send Authorization: Bearer <token> or Basic.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ConsoleSession.Covers(Request)
            ? ConsoleSession.ForbidAsync(Context, "Only an admin may do this.")
            : WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "Only an admin may do this.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static bool TryDecodeBasic(string parameter, out string user, out string password)
    {
        user = password = "";
        string decoded;
        try { decoded = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(parameter)); }
        catch (Exception e) when (e is FormatException or DecoderFallbackException) { return false; }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return false;
        user = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }
}
