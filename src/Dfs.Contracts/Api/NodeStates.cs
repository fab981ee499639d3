namespace Dfs.Contracts.Api;

/// <summary>Node states as the gateway reports them.</summary>
public static class NodeStates
{
    public const string Live = "live";
    public const string Suspect = "suspect";
    public const string Dead = "dead";
}
