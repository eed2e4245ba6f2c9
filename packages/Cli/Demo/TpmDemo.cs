using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Demo;

/// <summary>One step of the demo and what it showed.</summary>
internal sealed record DemoStep(string Name, bool Passed, string Detail);

/// <summary>What the demo did; <see cref="Passed"/> only if every step verified.</summary>
internal sealed record DemoReport(IReadOnlyList<DemoStep> Steps, IReadOnlyList<(TpmAlgId Bank, int Pcr, byte[] Value)> Pcrs)
{
    public bool Passed => Steps.Count > 0 && Steps.All(s => s.Passed);
}

/// <summary>
/// The measured-boot and remote-attestation story on one TPM: a boot chain measured with a TCG
/// event log, EK and AK, the AK proven by credential activation, a quote over the boot PCRs with a
/// fresh nonce, and a TPM-free verifier that checks the quote and replays the log.
/// </summary>
internal sealed class TpmDemo
{
    /// <summary>The PCRs the demo's boot chain touches and the verifier checks.</summary>
    public static readonly int[] BootPcrs = [0, 2, 4, 7, 8, 9];

    private static readonly (uint Pcr, TcgEventType Type, string Component)[] s_bootChain =
    [
        (0, TcgEventType.SCrtmVersion, "CRTM version 1.0"),
        (0, TcgEventType.EfiPlatformFirmwareBlob, "UEFI firmware volume"),
        (2, TcgEventType.EfiBootServicesDriver, "option ROM: virtio-net"),
        (7, TcgEventType.EfiVariableDriverConfig, "SecureBoot=1"),
        (4, TcgEventType.EfiBootServicesApplication, "shimx64.efi 15.7"),
        (4, TcgEventType.EfiBootServicesApplication, "grubx64.efi 2.06"),
        (4, TcgEventType.Ipl, "vmlinuz-6.1.0-trustStack"),
        (8, TcgEventType.Ipl, "kernel_cmdline: root=/dev/vda1 ima_policy=tcb"),
        (9, TcgEventType.Ipl, "initrd.img-6.1.0-trustStack"),
    ];

    private readonly Tpm2 _tpm;
    private readonly IRandomSource _random;
    private readonly Action<string> _progress;

    public TpmDemo(Tpm2 tpm, IRandomSource random, Action<string>? progress = null)
    {
        _tpm = tpm;
        _random = random;
        _progress = progress ?? (_ => { });
    }

    public DemoReport Run()
    {
        var steps = new List<DemoStep>();
        var bank = TpmAlgId.Sha256;
        var selection = PcrSelectionList.Create(bank, BootPcrs);

        // 1. Measured boot: every component is measured into its PCR before it "runs", and logged.
        _progress("measuring the boot chain");
        var log = new TcgEventLogWriter(TpmAlgId.Sha1, TpmAlgId.Sha256);
        foreach (var (pcr, type, component) in s_bootChain)
        {
            var data = Encoding.UTF8.GetBytes(component);
            _tpm.PcrExtend(pcr, [new TpmtHa(TpmAlgId.Sha1, SHA1.HashData(data)), new TpmtHa(TpmAlgId.Sha256, SHA256.HashData(data))]);
            log.AddMeasurement(pcr, type, data, data);
        }

        for (uint pcr = 0; pcr <= 7; pcr++)
        {
            byte[] separator = [0, 0, 0, 0];
            _tpm.PcrExtend(pcr, [new TpmtHa(TpmAlgId.Sha1, SHA1.HashData(separator)), new TpmtHa(TpmAlgId.Sha256, SHA256.HashData(separator))]);
            log.AddMeasurement(pcr, TcgEventType.Separator, separator, separator);
        }

        var eventLog = log.ToArray();
        steps.Add(new DemoStep("Boot chain measured", true, $"{s_bootChain.Length} components and 8 separators into PCRs {string.Join(',', BootPcrs)}, event log {eventLog.Length} octets"));

        // 2. Endorsement key and attestation key.
        _progress("creating EK and AK");
        var ek = _tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var ak = _tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        steps.Add(new DemoStep("EK created", true, $"ECC P-256, EK Credential Profile template, Name {Hex(ek.Name)}"));
        steps.Add(new DemoStep("AK created", true, $"ECC P-256 restricted ECDSA-SHA256, Name {Hex(ak.Name)}"));

        // 3. A Privacy CA proves the AK is in the same TPM as the EK: credential activation.
        _progress("proving the AK by credential activation");
        var challenge = _random.GetBytes(32);
        var credential = Tpm2.MakeCredentialOffline(ek.Public, challenge, ak.Name, _random);
        using var ekPolicy = _tpm.StartAuthSession(TpmSe.Policy);
        _tpm.PolicySecret(ekPolicy, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
        var recovered = _tpm.ActivateCredential(ak.Handle, ek.Handle, credential.CredentialBlob, credential.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.Session(ekPolicy, attributes: TpmaSession.None));
        var activated = CryptographicOperations.FixedTimeEquals(recovered, challenge);
        steps.Add(new DemoStep("AK proven by credential activation", activated, activated ? "the TPM released the Privacy CA's challenge: EK and AK live in one TPM" : "the recovered secret differs"));

        // 4. Quote with a fresh nonce, then verification without a TPM.
        _progress("quoting");
        var nonce = _random.GetBytes(32);
        var quote = _tpm.Quote(ak.Handle, nonce, selection);
        var values = _tpm.PcrReadAll(selection);
        var pcrValues = PcrValues.Create(values.Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value)));
        steps.Add(new DemoStep("Quote made", true, $"nonce {Hex(nonce)}, PCRs {selection}, clock {quote.Attest.ClockInfo.Clock} ms"));

        _progress("verifying");
        var verification = QuoteVerifier.Verify(new QuoteVerificationRequest(ak.Public, quote.Quoted, quote.Signature, nonce, pcrValues) { ExpectedSelection = selection });
        steps.Add(new DemoStep("Quote verified", verification.IsValid, verification.IsValid ? "signature, nonce, PCR selection and PCR digest all check" : string.Join("; ", verification.Failures)));

        var replayed = TcgEventLog.Parse(eventLog).Replay();
        var mismatched = BootPcrs.Where(p => !replayed.TryGetValue(bank, p, out var v) || !v.AsSpan().SequenceEqual(pcrValues[bank, p])).ToArray();
        steps.Add(new DemoStep("Event log replayed", mismatched.Length == 0, mismatched.Length == 0 ? "every quoted PCR equals the log's replay" : $"PCRs {string.Join(',', mismatched)} do not match the log"));

        _tpm.FlushContext(ak.Handle);
        _tpm.FlushContext(ek.Handle);
        steps.AddRange(ShadowPagingDemoSection.Run(ak.Name));
        return new DemoReport(steps, [.. values.OrderBy(kv => kv.Key.Pcr).Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value))]);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
