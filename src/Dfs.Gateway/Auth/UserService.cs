using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

/// <summary>Users and their homes: creation, changes, deletion, with the last admin kept.</summary>
public sealed class UserService(MetadataDbContext db, NamespaceService names, PasswordHasher hasher, CredentialCache cache)
{
    public async Task<(UserRecord User, string? GeneratedPassword)> CreateAsync(string name, string? password, bool isAdmin, long? quotaBytes, CancellationToken ct)
    {
        if (UserNames.Validate(name) is { } nameError) throw DfsProblemException.BadRequest("Invalid user name", nameError);
        if (password is not null && UserNames.ValidatePassword(password) is { } passwordError)
            throw DfsProblemException.BadRequest("Invalid password", passwordError);
        if (quotaBytes is < 0) throw DfsProblemException.BadRequest("Invalid quota", "quotaBytes must not be negative.");
        var generated = password is null ? PasswordHasher.Generate() : null;
        // The home first: a file in its place refuses the user (409) instead of leaving one without a home.
        await names.MkdirAsync(UserNames.Home(name), parents: true, ct);
        var user = new UserRecord
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            PasswordHash = hasher.Hash(password ?? generated!),
            IsAdmin = isAdmin,
            QuotaBytes = quotaBytes,
            CreatedAt = names.Now,
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            throw DfsProblemException.Conflict($"User '{name}' already exists.");
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
        return (user, generated);
    }

    public async Task<UserRecord> UpdateAsync(string name, UpdateUserRequest request, CancellationToken ct)
    {
        if (request.Password is { } password && UserNames.ValidatePassword(password) is { } passwordError)
            throw DfsProblemException.BadRequest("Invalid password", passwordError);
        if (request.QuotaBytes is < 0) throw DfsProblemException.BadRequest("Invalid quota", "quotaBytes must not be negative.");
        if (request.QuotaBytes is not null && request.ClearQuota == true)
            throw DfsProblemException.BadRequest("Invalid quota", "Give quotaBytes or clearQuota, not both.");
        var hash = request.Password is { } newPassword ? hasher.Hash(newPassword) : null;

        var updated = await names.RetryAsync(async () =>
        {
            var user = await db.Users.AsTracking().FirstOrDefaultAsync(u => u.Name == name, ct) ?? throw UnknownUser(name);
            if (request.IsAdmin == false && user.IsAdmin && !await db.Users.AnyAsync(u => u.IsAdmin && u.Id != user.Id, ct))
                throw DfsProblemException.Conflict($"'{name}' is the last admin: make another user admin first.");
            if (hash is not null) user.PasswordHash = hash;
            if (request.IsAdmin is { } admin) user.IsAdmin = admin;
            if (request.QuotaBytes is { } quota) user.QuotaBytes = quota;
            if (request.ClearQuota == true) user.QuotaBytes = null;
            await db.SaveChangesAsync(ct);
            return user;
        }, ct);
        await cache.InvalidateAsync();
        return updated;
    }

    public async Task SetPasswordAsync(Guid userId, string password, CancellationToken ct)
    {
        if (UserNames.ValidatePassword(password) is { } passwordError) throw DfsProblemException.BadRequest("Invalid password", passwordError);
        var hash = hasher.Hash(password);
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, hash), ct);
        await cache.InvalidateAsync();
    }

    /// <summary>Removes the user, their tokens, their access keys and every share to or from them; the files in their home stay.</summary>
    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        var id = await names.RetryAsync(async () =>
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.Name == name, ct) ?? throw UnknownUser(name);
            if (user.IsAdmin && !await db.Users.AnyAsync(u => u.IsAdmin && u.Id != user.Id, ct))
                throw DfsProblemException.Conflict($"'{name}' is the last admin and cannot be deleted.");
            await db.Shares.Where(s => s.OwnerId == user.Id || s.GranteeId == user.Id).ExecuteDeleteAsync(ct);
            await db.Tokens.Where(t => t.UserId == user.Id).ExecuteDeleteAsync(ct);
            await db.AccessKeys.Where(k => k.UserId == user.Id).ExecuteDeleteAsync(ct);
            await db.Users.Where(u => u.Id == user.Id).ExecuteDeleteAsync(ct);
            return user.Id;
        }, ct);
        await cache.InvalidateAsync();
    }

    public async Task<UserInfo> InfoAsync(UserRecord user, CancellationToken ct) =>
        new(user.Name, user.IsAdmin, UserNames.Home(user.Name), user.QuotaBytes, await Quotas.UsedBytesAsync(db, user.Name, ct), user.CreatedAt);

    public async Task<IReadOnlyList<UserInfo>> ListAsync(CancellationToken ct)
    {
        var users = await db.Users.OrderBy(u => u.Name).ToListAsync(ct);
        var result = new List<UserInfo>(users.Count);
        foreach (var user in users) result.Add(await InfoAsync(user, ct));
        return result;
    }

    public Task<UserRecord?> FindAsync(string name, CancellationToken ct) => db.Users.FirstOrDefaultAsync(u => u.Name == name, ct);

    public static DfsProblemException UnknownUser(string name) =>
        new(StatusCodes.Status404NotFound, "Not found", $"There is no user '{name}'.");
}
