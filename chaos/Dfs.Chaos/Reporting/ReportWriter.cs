using System.Globalization;
using System.Text;
using Dfs.Chaos.Faults;
using Dfs.Chaos.Workload;

namespace Dfs.Chaos.Reporting;

/// <summary>The run as the tables of docs/reliability.md.</summary>
public static class ReportWriter
{
    public static string Markdown(ChaosReport report)
    {
        var o = report.Options;
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Run of {report.StartedAt:yyyy-MM-dd HH:mm} UTC, seed {o.Seed}: {o.Nodes} storage nodes each in its own network namespace, replication factor 3, {o.Clients} clients, {report.WorkloadSeconds:0} s of workload, {report.FaultLog.Count} faults."));
        text.AppendLine();
        text.AppendLine("| Result | Value |");
        text.AppendLine("|---|---:|");
        Row("Operations", report.TotalOperations.ToString("N0", CultureInfo.InvariantCulture));
        Row("Acknowledged writes lost", report.Check.AcknowledgedWritesLost.ToString(CultureInfo.InvariantCulture));
        Row("Wrong reads (bytes no write sent, a mix of versions, a refused write)", report.Check.WrongReads.ToString(CultureInfo.InvariantCulture));
        Row("Stale reads (a value replaced before the read began)", report.Check.StaleReads.ToString(CultureInfo.InvariantCulture));
        Row("Files unreadable after healing", report.Check.UnreadableAfterHeal.ToString(CultureInfo.InvariantCulture));
        Row("Listing entries that disagree with the files read back", report.ListingMismatches.ToString(CultureInfo.InvariantCulture));
        Row(Invariant($"Chunks leaked after the GC grace period"), report.LeakedChunks.ToString(CultureInfo.InvariantCulture));
        Row("Unavailable seconds (no operation answered)", Invariant($"{report.UnavailableSeconds} of {report.WorkloadSeconds:0}"));
        Row("Every chunk at its replication factor after healing", report.FullReplicationSeconds is { } s ? Invariant($"{s:0.0} s") : "not within 5 min");
        text.AppendLine();
        text.AppendLine("| Operation | OK | Refused (409/404) | Unknown (timeout, 5xx, no connection) |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var (kind, counts) in report.Operations.Where(p => p.Value.Sum() > 0))
            text.AppendLine(Invariant($"| {OpName(kind)} | {counts[0]:N0} | {counts[1]:N0} | {counts[2]:N0} |"));
        text.AppendLine();
        text.AppendLine("| Fault | Times | Held (s) | Could not be applied or healed |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var (kind, (count, seconds, errors)) in report.Faults.OrderBy(p => p.Key))
            text.AppendLine(Invariant($"| {FaultName(kind)} | {count} | {seconds:0} | {errors} |"));
        return text.ToString();

        void Row(string name, string value) => text.AppendLine($"| {name} | {value} |");
    }

    private static string OpName(OpKind kind) => kind switch
    {
        OpKind.Put => "PUT (overwrite)",
        OpKind.PutIfAbsent => "PUT conflict=fail (races on shared names)",
        OpKind.Get => "GET",
        OpKind.RangeGet => "Range GET",
        OpKind.Head => "HEAD",
        OpKind.Delete => "rm",
        OpKind.Move => "mv",
        OpKind.List => "ls",
        _ => kind.ToString(),
    };

    private static string FaultName(FaultKind kind) => kind switch
    {
        FaultKind.KillNode => "SIGKILL a storage node, restart it",
        FaultKind.PauseNode => "SIGSTOP a storage node, SIGCONT",
        FaultKind.LinkDown => "a node's link down",
        FaultKind.DropInbound => "nftables: drop all a node receives (one-way)",
        FaultKind.DropOutbound => "nftables: drop all a node sends (one-way)",
        FaultKind.DropBoth => "nftables: drop both ways",
        FaultKind.SlowLink => "tbf: a node's link at 512 kbit/s",
        FaultKind.DiskFull => "a node's disk full",
        FaultKind.KillGateway => "SIGKILL the gateway, restart it",
        FaultKind.PauseGateway => "SIGSTOP the gateway, SIGCONT",
        FaultKind.KillReplicator => "SIGKILL the Replicator, restart it",
        FaultKind.PauseReplicator => "SIGSTOP the Replicator, SIGCONT",
        FaultKind.KillMessaging => "SIGKILL RabbitMQ, restart it",
        FaultKind.KillCache => "SIGKILL Redis, restart it",
        FaultKind.KillMetadata => "SIGKILL PostgreSQL, restart it",
        FaultKind.PauseMetadata => "SIGSTOP PostgreSQL, SIGCONT",
        _ => kind.ToString(),
    };

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
