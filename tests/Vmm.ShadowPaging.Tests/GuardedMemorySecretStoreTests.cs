using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class GuardedMemorySecretStoreTests
{
    private static readonly int[] s_segvExitCodes = [139, 134];

    [Fact]
    public void Store_CopyTo_RoundTrips()
    {
        var store = new GuardedMemorySecretStore();
        byte[] value = [9, 8, 7, 6, 5];

        using var secret = store.Store(value, "test");
        var copy = new byte[5];
        secret.CopyTo(copy);

        Assert.Equal(value, copy);
        Assert.False(store.AllowsDerivedKeyCaching);
    }

    [Fact]
    public void Update_SameLength_ReplacesValue()
    {
        using var secret = new GuardedMemorySecretStore().StoreGuarded([1, 2, 3], "test");

        secret.Update([4, 5, 6]);
        var copy = new byte[3];
        secret.CopyTo(copy);

        Assert.Equal(new byte[] { 4, 5, 6 }, copy);
        Assert.Throws<ArgumentException>(() => secret.Update([1]));
    }

    [Fact]
    public void CopyTo_AfterDispose_Throws()
    {
        var secret = new GuardedMemorySecretStore().StoreGuarded([1], "test");
        secret.Dispose();

        Assert.True(secret.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => secret.CopyTo(new byte[1]));
    }

    [Fact]
    public void Store_Empty_Works()
    {
        using var secret = new GuardedMemorySecretStore().Store([], "empty");

        secret.CopyTo([]);

        Assert.Equal(0, secret.Length);
    }

    [Fact]
    public void ToString_DoesNotShowValue()
    {
        using var secret = new GuardedMemorySecretStore().StoreGuarded([0xAB, 0xCD], "seed");

        Assert.DoesNotContain("ab", secret.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ChildProcess_ReadInsideAccessWindow_ReadsCorrectly()
    {
        var (code, output) = GuardHelper.Run(GuardHelper.ReadInside);

        Assert.True(code == 0, output);
        Assert.Contains("inside-window-read-ok", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ChildProcess_ReadOutsideAccessWindow_DiesOfSigsegv()
    {
        var (code, output) = GuardHelper.Run(GuardHelper.ReadOutside);

        Assert.Contains("touching outside the window", output, StringComparison.Ordinal);
        Assert.DoesNotContain("without a fault", output, StringComparison.Ordinal);
        Assert.True(s_segvExitCodes.Contains(code), $"exit code {code}: {output}");
    }

    [Fact]
    public void ChildProcess_WriteOutsideAccessWindow_DiesOfSigsegv()
    {
        var (code, output) = GuardHelper.Run(GuardHelper.WriteOutside);

        Assert.Contains("writing outside the window", output, StringComparison.Ordinal);
        Assert.DoesNotContain("without a fault", output, StringComparison.Ordinal);
        Assert.True(s_segvExitCodes.Contains(code), $"exit code {code}: {output}");
    }

    [Fact]
    public void SoftwareTpm_OnGuardedStore_CreatePrimaryAndSignVerify() =>
        SecretStoreEngineCheck.CreatePrimaryAndSign(new GuardedMemorySecretStore());
}

/// <summary>A SoftwareTpm running on a given secret store creates a primary key and signs correctly.</summary>
internal static class SecretStoreEngineCheck
{
    public static void CreatePrimaryAndSign(ITpmSecretStore store, Action? whileRunning = null)
    {
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true }, secretStore: store);
        var tpm = new Tpm2(engine);
        var key = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var digest = System.Security.Cryptography.SHA256.HashData("MMU-vTPM"u8);

        var signature = tpm.Sign(key.Handle, digest);

        Assert.True(TpmSignatureVerifier.Verify(key.Public, digest, signature));

        // The same seed on the default store derives the same primary key: the store changes where secrets live, not what they are.
        using var reference = new SoftwareTpm(new SoftwareTpmOptions { Seed = 7, AutoStartup = true });
        var referenceKey = new Tpm2(reference).CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        Assert.Equal(referenceKey.Name, key.Name);
        whileRunning?.Invoke();
        tpm.FlushContext(key.Handle);
    }
}
