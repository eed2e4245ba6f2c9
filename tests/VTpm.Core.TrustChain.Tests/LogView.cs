using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

/// <summary>Snapshot-friendly views of logs and results.</summary>
internal static class LogView
{
    public static object Of(byte[] log)
    {
        var parsed = TcgEventLog.Parse(log);
        return new
        {
            Banks = parsed.SpecId.DigestSizes.Select(d => d.Algorithm.ToString()).ToArray(),
            Events = parsed.Events.Select(e => new
            {
                e.PcrIndex,
                EventType = e.EventType.ToString(),
                Digests = e.Digests.ToDictionary(d => d.HashAlg.ToString(), d => Convert.ToHexStringLower(d.Digest)),
                Data = TvpQtEventData.TryParse(e)?.ToString() ?? Convert.ToHexStringLower(e.EventData),
            }).ToArray(),
            Replay = parsed.Replay().ToString(),
        };
    }

    public static object Of(TvpQtVerificationResult result) => new
    {
        VmId = result.VmId.ToString("D"),
        result.IsTrusted,
        Checks = result.Checks.Select(c => c.ToString()).ToArray(),
    };
}
