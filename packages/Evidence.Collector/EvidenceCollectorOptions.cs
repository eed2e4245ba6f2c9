using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// Options of the collection agent. The same shape is the JSON config file of
/// <c>truststack evidence collect --config</c> (camelCase property names).
/// </summary>
public sealed class EvidenceCollectorOptions
{
    /// <summary>The conventional evidence PCR: PC Client PFP "application support" PCR 23 (see the README for why).</summary>
    public const int DefaultEvidencePcr = 23;

    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The proc file system root (a fixture tree shaped like <c>/proc</c> in tests).</summary>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>The PCR the records are extended into (0..23; default 23).</summary>
    public int EvidencePcr { get; set; } = DefaultEvidencePcr;

    /// <summary>The PCR bank the records are extended into: sha1, sha256 (default), sha384 or sha512.</summary>
    public string EvidenceBank { get; set; } = "sha256";

    /// <summary>Reset the evidence PCR (allowed at locality 0 for PCR 16 and 23) before each round, so each round's log replays from zero.</summary>
    public bool ResetEvidencePcr { get; set; } = true;

    /// <summary>Files to measure: absolute paths or globs (<c>*</c>, <c>?</c>, <c>**</c>); a directory means every file beneath it.</summary>
    public IList<string> Files { get; set; } = [];

    /// <summary>Policy/configuration files (sshd_config, sysctl.conf, ...): digest plus their "key value" / "key = value" settings.</summary>
    public IList<string> PolicyFiles { get; set; } = [];

    /// <summary>Named values read from files, for example <c>"selinux.enforce": "/sys/fs/selinux/enforce"</c>.</summary>
    public IDictionary<string, string> PolicyValues { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>sysctl names read from <c>&lt;ProcRoot&gt;/sys</c>, for example <c>net.ipv4.ip_forward</c>.</summary>
    public IList<string> Sysctls { get; set; } = [];

    /// <summary>The Linux IMA measurement list to read (ASCII or binary, detected); empty to skip. Missing files are reported, not fatal.</summary>
    public string ImaMeasurementList { get; set; } = "/sys/kernel/security/ima/ascii_runtime_measurements";

    /// <summary>Hash every process's executable (through <c>/proc/&lt;pid&gt;/exe</c>).</summary>
    public bool HashProcessExecutables { get; set; } = true;

    /// <summary>How many files are hashed at once.</summary>
    public int HashConcurrency { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>The platform PCRs the at-rest storage key is sealed to (PolicyPCR), tpm2-tools syntax.</summary>
    public string SealPcrs { get; set; } = "sha256:0,7";

    /// <summary>Extra files measured as part of the agent itself (plugins, wrapper scripts).</summary>
    public IList<string> AgentFiles { get; set; } = [];

    /// <summary>The configuration file the options were read from; the agent measures it.</summary>
    public string? ConfigurationFile { get; set; }

    /// <summary>The evidence bank as an algorithm.</summary>
    /// <exception cref="ArgumentException">Not a known bank.</exception>
    public TpmAlgId GetEvidenceBank() => EvidenceBank.ToLowerInvariant() switch
    {
        "sha1" => TpmAlgId.Sha1,
        "sha256" => TpmAlgId.Sha256,
        "sha384" => TpmAlgId.Sha384,
        "sha512" => TpmAlgId.Sha512,
        _ => throw new ArgumentException($"Evidence bank '{EvidenceBank}' is not sha1, sha256, sha384 or sha512."),
    };

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (EvidencePcr is < 0 or > 23)
        {
            throw new ArgumentException($"EvidencePcr {EvidencePcr} is not 0..23.");
        }

        if (HashConcurrency < 1)
        {
            throw new ArgumentException("HashConcurrency must be at least 1.");
        }

        _ = GetEvidenceBank();
        try
        {
            _ = PcrSelectionList.Parse(SealPcrs);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"SealPcrs '{SealPcrs}': {e.Message}", e);
        }
    }
}
