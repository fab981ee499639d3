// These tests start real processes and PostgreSQL servers on a shared 2-core machine: one at a time keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
