using TrustStack.Tests.Shared;

namespace TrustStack.Cli.Tests;

/// <summary>
/// Real tpm2-tools output for the CLI tests: starts swtpm (<see cref="SwtpmProcess"/>) with a temp
/// working folder, makes an ECC AK and two quotes (serialized PCRs with a TPMT_SIGNATURE; values PCRs
/// with a plain signature, made in that order), the AK's qualified name (<c>ak.qname</c>), and the
/// issue-19 forgery (<see cref="TpmToolsForgery"/>: an unrestricted key's signature over a quote
/// with invented PCR values), then kills swtpm. The files stay in <see cref="Directory"/> until
/// <see cref="Dispose"/>.
/// </summary>
public sealed class TpmToolsQuoteFiles : IDisposable
{
    public const string NonceHex = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    public const string PcrList = "sha256:0,1,7+sha1:7";

    public TpmToolsQuoteFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("truststack-cli-quote-").FullName;
        foreach (var tool in new[] { "tpm2_createek", "tpm2_createak", "tpm2_quote", "tpm2_pcrextend", "tpm2_flushcontext", "tpm2_readpublic", "tpm2_eventlog" })
        {
            PeerTools.Require(tool, "tpm2-tools");
        }

        try
        {
            // The files stay in Directory after swtpm is gone.
            using var swtpm = new SwtpmProcess(Directory);
            void Tpm2(params string[] args)
            {
                swtpm.RunTool(args[0], args[1..]);
                if (args[0] != "tpm2_flushcontext" && args[0] != "tpm2_pcrextend")
                {
                    swtpm.RunTool("tpm2_flushcontext", "-t"); // swtpm has no resource manager
                }
            }

            Tpm2("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
            Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-f", "pem", "-n", "ak.name");
            Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-f", "tss", "-o", "ak.tss");
            Tpm2("tpm2_pcrextend", $"7:sha256={new string('7', 64)},sha1={new string('7', 40)}");
            Tpm2("tpm2_quote", "-c", "ak.ctx", "-l", PcrList, "-q", NonceHex, "-m", "quote.msg", "-s", "quote.sig", "-o", "pcrs.ser", "-F", "serialized", "-g", "sha256");
            Tpm2("tpm2_quote", "-c", "ak.ctx", "-l", PcrList, "-q", NonceHex, "-m", "plain.msg", "-s", "plain.sig", "-f", "plain", "-o", "pcrs.val", "-F", "values", "-g", "sha256");
            Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-q", "ak.qname");
            TpmToolsForgery.Make(swtpm, "quote.msg");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
