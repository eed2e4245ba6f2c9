using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class TmzDaaServiceCollectionExtensionsTests
{
    [Fact]
    public void AddTmzDaa_Ristretto_ResolvesGroupAndDefaultProfile()
    {
        using var provider = new ServiceCollection().AddTmzDaa(o => o.Group = "ristretto255").AddTmzDaa().BuildServiceProvider();
        Assert.Same(DaaGroup.Ristretto255, provider.GetRequiredService<DaaGroup>());
        Assert.Equal(NsCpuProfile.Default, provider.GetRequiredService<NsCpuProfile>());
    }

    [Fact]
    public void AddTmzDaa_UnknownGroup_FailsValidation()
    {
        using var provider = new ServiceCollection().AddTmzDaa(o => o.Group = "bn254").BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TmzDaaOptions>>().Value);
    }
}
