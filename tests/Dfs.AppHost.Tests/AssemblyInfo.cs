// These tests start real clusters, servers and browsers on a shared 2-core machine: one at a time keeps timings honest
// (and the tests that capture Console.Out or set the environment never meet another test).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// They read /proc and send signals, like the AppHost's own process handling: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
