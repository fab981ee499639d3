using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Hosting;

/// <summary>Bound from "Dfs:Replicator" (env: Dfs__Replicator__ReconcileIntervalMs, Dfs__Replicator__Retry__ImmediateRetries, …).</summary>
public sealed class ReplicatorOptions
{
    public const string SectionName = "Dfs:Replicator";

    /// <summary>Pause between reconcile passes; the first pass runs shortly after start.</summary>
    [Range(100, int.MaxValue)]
    public int ReconcileIntervalMs { get; set; } = 30_000;

    /// <summary>How many under-replicated chunks one reconcile round asks the gateway for.</summary>
    [Range(1, 100_000)]
    public int ReconcileBatchSize { get; set; } = 500;

    /// <summary>Limit for one node-to-node copy (open the source, stream it to the target).</summary>
    [Range(1, 86_400)]
    public int CopyTimeoutSeconds { get; set; } = 120;

    /// <summary>Chunks copied at the same time by one message or reconcile pass.</summary>
    [Range(1, 256)]
    public int MaxParallelCopies { get; set; } = 4;

    public ReplicatorRetryOptions Retry { get; set; } = new();
}

/// <summary>
/// The consumers' retry schedule: <see cref="ImmediateRetries"/> retries without delay, then
/// <see cref="ExponentialRetries"/> retries waiting min(Max, Min + Delta × (2^i − 1)) ms. A message that
/// fails them all goes to its endpoint's _error queue.
/// </summary>
public sealed class ReplicatorRetryOptions
{
    [Range(0, 100)]
    public int ImmediateRetries { get; set; } = 2;

    [Range(0, 100)]
    public int ExponentialRetries { get; set; } = 5;

    [Range(0, int.MaxValue)]
    public int MinBackoffMs { get; set; } = 200;

    [Range(0, int.MaxValue)]
    public int MaxBackoffMs { get; set; } = 10_000;

    [Range(0, int.MaxValue)]
    public int DeltaBackoffMs { get; set; } = 500;
}

/// <summary>Data annotations on both levels (the built-in validator does not descend into Retry) plus the cross-field rule.</summary>
internal sealed class ReplicatorOptionsValidator : IValidateOptions<ReplicatorOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicatorOptions options)
    {
        var errors = new List<string>();
        Check(options, ReplicatorOptions.SectionName, errors);
        if (options.Retry is null)
        {
            errors.Add($"{ReplicatorOptions.SectionName}:Retry is missing.");
        }
        else
        {
            Check(options.Retry, $"{ReplicatorOptions.SectionName}:Retry", errors);
            if (options.Retry.MinBackoffMs > options.Retry.MaxBackoffMs)
                errors.Add($"{ReplicatorOptions.SectionName}:Retry:MinBackoffMs ({options.Retry.MinBackoffMs}) must not exceed MaxBackoffMs ({options.Retry.MaxBackoffMs}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(object instance, string section, List<string> errors)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true)) return;
        errors.AddRange(results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
