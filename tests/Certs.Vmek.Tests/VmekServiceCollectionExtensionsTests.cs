using Microsoft.Extensions.DependencyInjection;
using TrustStack.VTpm.Core;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class VmekServiceCollectionExtensionsTests
{
    [Fact]
    public void AddVmekCredentials_AfterAddVTpmCore_ManagerUsesTheVmekProvider()
    {
        using var p = new VmekPlatform();
        var services = new ServiceCollection();
        services.AddSingleton(p.Hw);
        services.AddVTpmCore(o => o.Seed = 5);
        services.AddVmekCredentials(_ => p.Provider);
        using var sp = services.BuildServiceProvider();

        var manager = sp.GetRequiredService<VTpmManager>();

        Assert.Same(p.Provider, manager.CredentialProvider);
        var vm = manager.Create().VmId;
        manager.Start(vm);
        Assert.True(p.Provider.Issued.ContainsKey(vm));
    }

    [Fact]
    public void AddVTpmCore_Alone_NoCredentialsProvider()
    {
        var services = new ServiceCollection();
        services.AddVTpmCore();
        services.AddVmek();
        using var sp = services.BuildServiceProvider();

        Assert.Same(NoVTpmCredentials.Instance, sp.GetRequiredService<VTpmManager>().CredentialProvider);
    }
}
