using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Dfs.Gateway.Auth;

/// <summary>
/// Declares the two ways in (a bearer token from POST /api/auth/tokens, or Basic with a user's password) in the
/// OpenAPI document, so Swagger UI's Authorize button and generated clients send credentials.
/// </summary>
internal sealed class SecuritySchemesTransformer : IOpenApiDocumentTransformer
{
    private const string Bearer = "Bearer";
    private const string Basic = "Basic";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A token from POST /api/auth/tokens or `dfs login` (dfs_…).",
        };
        document.Components.SecuritySchemes[Basic] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "basic",
            Description = "A user's name and password.",
        };
        document.Security ??= [];
        foreach (var scheme in new[] { Bearer, Basic })
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, document)] = [] });
        return Task.CompletedTask;
    }
}
