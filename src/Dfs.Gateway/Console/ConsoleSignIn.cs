using System.Text;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Http;

namespace Dfs.Gateway.Console;

/// <summary>
/// /console/login and /console/logout: a user name and password checked like the API's Basic credentials, an
/// API token issued in the session cookie, and on sign-out that token revoked.
/// </summary>
internal static class ConsoleSignIn
{
    public static RouteGroupBuilder MapConsoleSignIn(this RouteGroupBuilder console)
    {
        console.MapGet("/login", (string? returnUrl, string? ended, string? signedOut, HttpContext context) =>
                // Already signed in (a valid session): straight on.
                Caller.FromPrincipal(context.User) is not null
                    ? Results.Redirect(Destination(returnUrl))
                    : LoginPage(context, returnUrl, user: null,
                        ended is "1" ? "Your session has ended (it was signed out, revoked or expired): sign in again."
                        : signedOut is "1" ? "You are signed out." : null,
                        isError: ended is "1"))
            .AllowAnonymous();

        console.MapPost("/login", SignInAsync).AllowAnonymous().AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);

        // Without a valid session the group's challenge already sends the browser to the sign-in page (and clears
        // a stale cookie), so what reaches here has a session to end.
        console.MapPost("/logout", async (HttpContext context, TokenService tokens, CancellationToken ct) =>
            {
                var caller = context.GetCaller();
                if (ConsoleSession.IsCookieSession(context) && caller.TokenId is { } session)
                    await tokens.RevokeAsync(caller, session, ct);
                ConsoleSession.Clear(context);
                return ConsoleHtml.SeeOther(ConsoleRoutes.Login + "?signedOut=1");
            })
            .AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);
        return console;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, CredentialValidator credentials, TokenService tokens, CancellationToken ct)
    {
        if (!context.Request.HasFormContentType)
            throw DfsProblemException.BadRequest("Not a sign-in form", "Sign in with the form of the sign-in page (a form post with user and password).");
        var form = await context.Request.ReadFormAsync(ct);
        var user = form["user"].ToString().Trim();
        var password = form["password"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        if (user.Length == 0 || password.Length == 0)
            return LoginPage(context, returnUrl, user, "Enter your user name and password.", isError: true, StatusCodes.Status400BadRequest);

        // Names and passwords the rules could never have accepted are wrong without paying for a hash.
        var caller = UserNames.Validate(user) is null && password.Length <= UserNames.MaxPasswordLength
            ? await credentials.ValidateBasicAsync(user, password, ct)
            : null;
        // The form again with the reason, as 200: a 401 would need a WWW-Authenticate challenge, which a form has none of.
        if (caller is null) return LoginPage(context, returnUrl, user, "Wrong user name or password.", isError: true);

        await ConsoleSession.SignInAsync(context, caller, tokens, ct);
        // 303: the browser follows with a GET, and a reload of the next page does not post the password again.
        return ConsoleHtml.SeeOther(Destination(returnUrl));
    }

    private static string Destination(string? returnUrl) => ConsoleRoutes.IsConsoleUrl(returnUrl) ? returnUrl! : ConsoleRoutes.Cluster;

    private static IResult LoginPage(HttpContext context, string? returnUrl, string? user, string? message, bool isError,
        int status = StatusCodes.Status200OK)
    {
        var body = new StringBuilder();
        body.Append("<section class=\"login\"><h1>Sign in to Dfs</h1>");
        body.Append("<p class=\"muted\">The same user name and password as for <code>dfs login</code>.</p>");
        if (message is not null)
            body.Append("<p class=\"message").Append(isError ? " error" : " ok").Append("\" id=\"login-message\"").Append(isError ? " role=\"alert\"" : "")
                .Append('>').Append(ConsoleHtml.E(message)).Append("</p>");
        body.Append("<form method=\"post\" action=\"").Append(ConsoleRoutes.Login).Append("\" id=\"login-form\">");
        body.Append(ConsoleHtml.TokenField(context));
        body.Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(ConsoleHtml.E(Destination(returnUrl))).Append("\">");
        body.Append("<label for=\"login-user\">User</label><input type=\"text\" id=\"login-user\" name=\"user\" autocomplete=\"username\" required autofocus value=\"")
            .Append(ConsoleHtml.E(user)).Append("\">");
        body.Append("<label for=\"login-password\">Password</label><input type=\"password\" id=\"login-password\" name=\"password\" autocomplete=\"current-password\" required>");
        body.Append("<button type=\"submit\" class=\"primary\" id=\"login-submit\">Sign in</button></form></section>");
        return ConsoleHtml.Page(context, "Sign in", nav: null, body.ToString(), status);
    }
}
