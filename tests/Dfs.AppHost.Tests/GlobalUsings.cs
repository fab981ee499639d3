global using Dfs.Testing;
