#pragma warning disable CS1591, RS0016, CA5394
namespace TrustStack.Tpm.Hardware;
// TEMPORARY (not committed): stands in for the crypto branch until it merges.
public sealed class DeterministicRandomSource : IRandomSource
{
    private readonly System.Random _r;
    private DeterministicRandomSource(ulong seed) { _r = new System.Random((int)seed); }
    public static DeterministicRandomSource FromSeed(ulong seed) => new(seed);
    public void Fill(Span<byte> destination) => _r.NextBytes(destination);
}
internal sealed class TpmPrivateKey : IDisposable
{
    public TpmPrivateKey(TpmtPublic p, TpmtSensitive s) { _ = p; _ = s; }
    public void Dispose() { }
}
