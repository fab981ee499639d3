using System.Runtime.InteropServices;

namespace Dfs.AppHost.Processes;

/// <summary>Signals other than SIGKILL: Process.Kill only sends SIGKILL, which gives a service no chance to shut down.</summary>
internal static class Native
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>Sends <paramref name="signal"/>; a negative pid addresses a whole process group. False when nothing received it.</summary>
    public static bool Signal(int pid, int signal) => pid != 0 && kill(pid, signal) == 0;
}
