// These tests start real processes and PostgreSQL servers on a shared 2-core machine: one at a time keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// They read /proc and run bash, sleep and PostgreSQL: Linux only, like the AppHost's process handling.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
