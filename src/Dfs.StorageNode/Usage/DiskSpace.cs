namespace Dfs.StorageNode.Usage;

internal static class DiskSpace
{
    /// <summary>Bytes an unprivileged writer can still use on the file system holding <paramref name="path"/> (one statvfs).</summary>
    public static long Available(string path) =>
        // On Unix DriveInfo takes any path on the file system; on Windows it wants the drive root.
        new DriveInfo(OperatingSystem.IsWindows() ? Path.GetPathRoot(path)! : path).AvailableFreeSpace;

    public static bool IsDiskFull(IOException e) =>
        // ENOSPC and EDQUOT on Linux (.NET puts errno in HResult), ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL on Windows.
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);
}
