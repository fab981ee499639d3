namespace Dfs.Cli;

/// <summary>The process exit codes of `dfs`; scripts rely on them, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Conflict = 4;
    public const int Integrity = 5;
    public const int Unreachable = 6;
    public const int BadRequest = 7;
    public const int Unauthenticated = 8;
    public const int Forbidden = 9;
    public const int Canceled = 130;

    public static readonly IReadOnlyList<(int Code, string Meaning)> All =
    [
        (Ok, "success"),
        (Error, "unexpected error (including a 5xx answer from the gateway)"),
        (Usage, "usage error: bad arguments or options"),
        (NotFound, "not found: remote path or storage node (404), or local file/folder"),
        (Conflict, "conflict: remote path exists or node name is ambiguous (409), or local file exists without --force"),
        (Integrity, "integrity failure: digest mismatch or truncated download"),
        (Unreachable, "gateway unreachable, timed out, or no gateway configured (no cluster.json for `dfs cluster status`)"),
        (BadRequest, "bad request: other 4xx from the gateway (e.g. invalid path); its problem detail is printed"),
        (Unauthenticated, "authentication required or failed (401): run `dfs login`"),
        (Forbidden, "forbidden (403): you may not read or write that path"),
        (Canceled, "canceled (Ctrl+C)"),
    ];
}
