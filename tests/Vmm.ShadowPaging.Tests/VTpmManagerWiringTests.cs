using Microsoft.Extensions.DependencyInjection;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Vmm.ShadowPaging.Tests;

/// <summary>
/// The MMU-vTPM store reaches the vTPM manager through DI alone: AddShadowPaging replaces the
/// managed store that AddVTpmCore registers, in either order, so every vTPM engine the manager
/// builds keeps its seeds and keys in frames only the vTPM's context may map.
/// </summary>
public sealed class VTpmManagerWiringTests
{
    public static TheoryData<bool> Orders => new() { true, false };

    [Theory]
    [MemberData(nameof(Orders))]
    public void AddShadowPaging_WithAddVTpmCore_ManagerVTpmsKeepSecretsInMmuVTpmFrames(bool shadowPagingFirst)
    {
        var services = new ServiceCollection();
        if (shadowPagingFirst)
        {
            services.AddShadowPaging().AddVTpmCore(o => o.Seed = 7);
        }
        else
        {
            services.AddVTpmCore(o => o.Seed = 7).AddShadowPaging();
        }

        using var sp = services.BuildServiceProvider(validateScopes: true);
        var store = Assert.IsType<MmuVTpmSecretStore>(sp.GetRequiredService<ITpmSecretStore>());
        var manager = sp.GetRequiredService<VTpmManager>();
        var before = store.Regions.Count;

        var vm = manager.Create().VmId;
        manager.Start(vm);
        using (var channel = manager.OpenChannel(vm))
        {
            var guest = new Tpm2(channel);
            var key = guest.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
            var digest = new byte[32];
            Assert.True(TpmSignatureVerifier.Verify(key.Public, digest, guest.Sign(key.Handle, digest)));
            guest.FlushContext(key.Handle);
        }

        // The vTPM's hierarchy seeds now live in MMU-vTPM frames owned by the vTPM's context.
        Assert.True(store.Regions.Count > before, $"{store.Regions.Count} regions, {before} before the vTPM started");
        var seed = store.Regions.First(r => r.Purpose.Contains("PS", StringComparison.Ordinal));
        Assert.All(seed.MachineFrames, f => Assert.Same(store.Context, store.Hypervisor.OwnerOf(f)));

        // dom0 maps that frame and reads it: denied, nothing copied.
        var hv = store.Hypervisor;
        var dom0 = hv.Domains.Single(d => d.Kind == DomainKind.Management);
        var ctx = hv.Contexts.Single(c => c.Domain == dom0);
        hv.MapForeignFrame(dom0, 15, seed.MachineFrames[0]);
        hv.GuestMap(ctx, 0x4000_0000, 15, PageFlags.Writable);
        var stolen = new byte[32];
        Assert.Equal(TranslationStatus.Denied, hv.Read(ctx, 0x4000_0000, stolen));
        Assert.True(stolen.AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }
}
