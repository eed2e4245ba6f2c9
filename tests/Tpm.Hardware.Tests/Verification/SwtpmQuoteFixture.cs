using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>
/// Interop fixture: starts swtpm on a free 127.0.0.1 port in a temp folder and drives
/// tpm2-tools against it to produce real quote files (ECC and RSA AKs; PCR files in both
/// formats; signatures in both formats). Killed and deleted in <see cref="Dispose"/>.
/// </summary>
public sealed class SwtpmQuoteFixture : IDisposable
{
    /// <summary>The qualifying data every quote carries.</summary>
    public const string NonceHex = "0123456789abcdef0011223344556677";

    /// <summary>The PCR list every quote selects (two banks, the SHA-1 bank second).</summary>
    public const string PcrList = "sha256:0,1,2,3,10,16+sha1:0,16";

    private readonly SwtpmProcess _swtpm;

    public SwtpmQuoteFixture()
    {
        foreach (var tool in new[] { "tpm2_createek", "tpm2_createak", "tpm2_quote", "tpm2_checkquote", "tpm2_pcrextend", "tpm2_flushcontext", "tpm2_readpublic", "tpm2_eventlog" })
        {
            PeerTools.Require(tool, "tpm2-tools");
        }

        _swtpm = new SwtpmProcess();
        try
        {
            Generate();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The folder with the generated files.</summary>
    public string Directory => _swtpm.WorkingDirectory;

    /// <summary>Path of a generated file.</summary>
    public string PathOf(string name) => _swtpm.PathOf(name);

    /// <summary>The octets of a generated file.</summary>
    public byte[] Read(string name) => _swtpm.ReadFile(name);

    /// <summary>The invented PCR values of the forged quote (<see cref="TpmToolsForgery"/>).</summary>
    public PcrValues InventedValues { get; private set; } = PcrValues.Empty;

    /// <summary>Runs a tpm2-tools command against this fixture's swtpm; returns stdout, throws with stderr on failure.</summary>
    public string Tpm2(string tool, params string[] args) => _swtpm.RunTool(tool, args);

    public void Dispose() => _swtpm.Dispose();

    private void Generate()
    {
        // Without a resource manager swtpm holds 3 transient objects: flush after each step.
        Tpm2("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-n", "ak.name");
        Flush();
        Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        Flush();
        Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-q", "ak.qname");
        Flush();
        Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak2.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak2.pub");
        Flush();
        Tpm2("tpm2_createek", "-c", "ekr.ctx", "-G", "rsa", "-u", "ekr.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ekr.ctx", "-c", "akrsa.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsassa", "-u", "akrsa.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ekr.ctx", "-c", "akpss.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsapss", "-u", "akpss.pub");
        Flush();

        Tpm2("tpm2_pcrextend", $"0:sha256={new string('a', 64)},sha1={new string('b', 40)}");
        Tpm2("tpm2_pcrextend", $"3:sha256={new string('c', 64)}");
        Tpm2("tpm2_pcrextend", $"16:sha256={new string('d', 64)},sha1={new string('e', 40)}");

        Quote("ak.ctx", "quote.msg", "quote.sig", "pcrs.ser", "-F", "serialized");
        Quote("ak.ctx", "quote-plain.msg", "quote-plain.sig", "pcrs.val", "-F", "values", "-f", "plain");
        Quote("ak2.ctx", "quote-ak2.msg", "quote-ak2.sig", "pcrs-ak2.ser", "-F", "serialized");
        Quote("akrsa.ctx", "quote-rsa.msg", "quote-rsa.sig", "pcrs-rsa.ser", "-F", "serialized");
        Quote("akrsa.ctx", "quote-rsa-plain.msg", "quote-rsa-plain.sig", "pcrs-rsa-plain.ser", "-F", "serialized", "-f", "plain");
        Quote("akpss.ctx", "quote-pss.msg", "quote-pss.sig", "pcrs-pss.ser", "-F", "serialized", "--scheme", "rsapss");
        InventedValues = TpmToolsForgery.Make(_swtpm, "quote.msg");
    }

    private void Quote(string key, string message, string signature, string pcrs, params string[] extra)
    {
        Tpm2("tpm2_quote", ["-c", key, "-l", PcrList, "-q", NonceHex, "-m", message, "-s", signature, "-o", pcrs, "-g", "sha256", .. extra]);
        Flush();
    }

    private void Flush() => Tpm2("tpm2_flushcontext", "-t");
}

[CollectionDefinition(Name)]
public sealed class SwtpmCollection : ICollectionFixture<SwtpmQuoteFixture>
{
    public const string Name = "swtpm + tpm2-tools";
}
