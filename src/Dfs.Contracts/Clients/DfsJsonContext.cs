using System.Text.Json;
using System.Text.Json.Serialization;
using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>
/// Every body that crosses a link between Dfs's processes, serialized by generated code with the web defaults
/// (camelCase) the ASP.NET Core services use; Refit's clients read and write through it.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PutFileResult))]
[JsonSerializable(typeof(EntryInfo))]
[JsonSerializable(typeof(ListingPage))]
[JsonSerializable(typeof(EntryDetails))]
[JsonSerializable(typeof(MoveRequest))]
[JsonSerializable(typeof(IReadOnlyList<NodeInfo>))]
[JsonSerializable(typeof(NodeDrainStatus))]
[JsonSerializable(typeof(ClusterSummary))]
[JsonSerializable(typeof(GatewayInstanceInfo))]
[JsonSerializable(typeof(FileLayout))]
[JsonSerializable(typeof(ReplicationStatus))]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenCreated))]
[JsonSerializable(typeof(IReadOnlyList<TokenInfo>))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(IReadOnlyList<UserInfo>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UserCreated))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(ShareList))]
[JsonSerializable(typeof(CreateShareRequest))]
[JsonSerializable(typeof(CreateAccessKeyRequest))]
[JsonSerializable(typeof(AccessKeyCreated))]
[JsonSerializable(typeof(IReadOnlyList<AccessKeyInfo>))]
[JsonSerializable(typeof(NodeRegistration))]
[JsonSerializable(typeof(NodeRegistrationAck))]
[JsonSerializable(typeof(NodeHeartbeat))]
[JsonSerializable(typeof(ReplicaReport))]
[JsonSerializable(typeof(CorruptReplicaReport))]
[JsonSerializable(typeof(ReplicationWork))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(StorageNodeStatus))]
[JsonSerializable(typeof(ChunkInventoryPage))]
public sealed partial class DfsJsonContext : JsonSerializerContext;
