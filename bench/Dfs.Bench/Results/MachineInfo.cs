using System.Runtime.InteropServices;

namespace Dfs.Bench.Results;

/// <summary>The machine a run happened on; figures without it mean little.</summary>
public sealed record MachineInfo(
    string CpuModel,
    int Cores,
    double MemoryGiB,
    string Kernel,
    string Os,
    string Runtime,
    string DataDirectory,
    double DiskFreeGiB,
    double DiskTotalGiB,
    string LoadAverageAtStart,
    string? NginxVersion)
{
    public static MachineInfo Collect(string dataDirectory, string? nginxVersion)
    {
        var drive = new DriveInfo(Path.GetFullPath(dataDirectory));
        return new MachineInfo(
            CpuModel: ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
            Cores: Environment.ProcessorCount,
            MemoryGiB: Math.Round(MemTotalBytes() / (double)(1L << 30), 1),
            Kernel: TryRead("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.VersionString,
            Os: OsName(),
            Runtime: RuntimeInformation.FrameworkDescription,
            DataDirectory: dataDirectory,
            DiskFreeGiB: Math.Round(drive.AvailableFreeSpace / (double)(1L << 30), 1),
            DiskTotalGiB: Math.Round(drive.TotalSize / (double)(1L << 30), 1),
            LoadAverageAtStart: string.Join(' ', (TryRead("/proc/loadavg") ?? "").Split(' ').Take(3)),
            NginxVersion: nginxVersion);
    }

    public string Describe() =>
        $"{CpuModel}, {Cores} cores, {MemoryGiB} GiB RAM, Linux {Kernel} ({Os}), {Runtime}; data on a disk with " +
        $"{DiskFreeGiB} of {DiskTotalGiB} GiB free; load average at start {LoadAverageAtStart}" +
        (NginxVersion is null ? "" : $"; {NginxVersion}");

    private static string? ReadFirst(string file, string key) =>
        TryLines(file).Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault();

    private static long MemTotalBytes() =>
        ReadFirst("/proc/meminfo", "MemTotal") is { } text && long.TryParse(text.Split(' ')[0], out var kib) ? kib * 1024 : 0;

    private static string OsName() =>
        TryLines("/etc/os-release").Where(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            .Select(l => l["PRETTY_NAME=".Length..].Trim('"')).FirstOrDefault() ?? RuntimeInformation.OSDescription;

    private static string? TryRead(string file)
    {
        try { return File.ReadAllText(file).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static IEnumerable<string> TryLines(string file) => TryRead(file)?.Split('\n') ?? [];
}
