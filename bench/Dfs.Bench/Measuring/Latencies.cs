namespace Dfs.Bench.Measuring;

/// <summary>Operation timings of one measurement: rate and percentiles from a plain sorted array.</summary>
public sealed class Latencies(double[] milliseconds, double elapsedSeconds, long errors)
{
    public int Count => milliseconds.Length;
    public long Errors => errors;
    public double OpsPerSecond => elapsedSeconds > 0 ? milliseconds.Length / elapsedSeconds : 0;
    public double P50 => Percentile(0.50);
    public double P99 => Percentile(0.99);

    public static Latencies From(IEnumerable<List<double>> perWorker, double elapsedSeconds, long errors)
    {
        var all = perWorker.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new Latencies(all, elapsedSeconds, errors);
    }

    private double Percentile(double p)
    {
        if (milliseconds.Length == 0) return double.NaN;
        var index = (int)Math.Ceiling(p * milliseconds.Length) - 1;
        return milliseconds[Math.Clamp(index, 0, milliseconds.Length - 1)];
    }
}
