namespace Dfs.Testing;

/// <summary>What a helper expected did not happen: the test that called it fails with this message (the helpers know no test framework).</summary>
public sealed class TestExpectationException(string message) : Exception(message);
