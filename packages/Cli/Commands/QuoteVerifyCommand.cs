using System.CommandLine;
using System.Globalization;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack quote verify</c>: checks a tpm2_quote output without a TPM. Exit codes: 0 the
/// quote is valid, 1 it is not (each failed check is printed), 2 the input is unusable (missing
/// option or file, bad hex, unreadable key, signature or PCR file).
/// </summary>
internal static class QuoteVerifyCommand
{
    /// <summary>Exit code of a valid quote.</summary>
    public const int Valid = 0;

    /// <summary>Exit code of a quote that fails a check.</summary>
    public const int Invalid = 1;

    /// <summary>Exit code of unusable input.</summary>
    public const int UnusableInput = 2;

    /// <summary>The <c>quote</c> command with its <c>verify</c> sub-command.</summary>
    public static Command Create()
    {
        // Options are checked in the action rather than marked Required, so that a missing one
        // exits 2 (unusable input) instead of System.CommandLine's parse-error 1, which here means "invalid quote".
        var publicKey = new Option<FileInfo>("--public", "-u") { Description = "(required) The signing key's public part: TPM2B_PUBLIC (.pub), TPMT_PUBLIC, PEM or DER.", HelpName = "FILE" };
        var message = new Option<FileInfo>("--message", "-m") { Description = "(required) The quote message: the marshalled TPMS_ATTEST (tpm2_quote -m).", HelpName = "FILE" };
        var signature = new Option<FileInfo>("--signature", "-s") { Description = "(required) The signature: TPMT_SIGNATURE (-f tss) or plain (-f plain).", HelpName = "FILE" };
        var pcrs = new Option<FileInfo>("--pcrs", "-f") { Description = "(required) The PCR values (tpm2_quote -o).", HelpName = "FILE" };
        var pcrsFormat = new Option<string>("--pcrs-format", "-F") { Description = "Format of the PCR file.", DefaultValueFactory = _ => "serialized" };
        pcrsFormat.AcceptOnlyFromAmong("values", "serialized");
        var nonce = new Option<string>("--nonce", "-q") { Description = "(required) The qualifying data the quote must carry, in hex.", HelpName = "HEX" };
        var pcrList = new Option<string>("--pcr-list", "-l") { Description = "The PCRs the quote must select, e.g. sha256:0,1,2+sha1:0. Default: what the message selects.", HelpName = "LIST" };
        var hash = new Option<string>("--hash-algorithm", "-g") { Description = "Hash of a plain signature (a TPMT_SIGNATURE names its own).", DefaultValueFactory = _ => "sha256" };
        hash.AcceptOnlyFromAmong("sha1", "sha256", "sha384", "sha512");

        var verify = new Command("verify", "Verify a TPM2_Quote: TPM-generated, a quote, the nonce, the signature, the PCR selection and the PCR digest.")
        {
            publicKey, message, signature, pcrs, pcrsFormat, nonce, pcrList, hash,
        };
        verify.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var request = BuildRequest(
                    Required(parseResult.GetValue(publicKey), "--public"),
                    Required(parseResult.GetValue(message), "--message"),
                    Required(parseResult.GetValue(signature), "--signature"),
                    Required(parseResult.GetValue(pcrs), "--pcrs"),
                    parseResult.GetValue(pcrsFormat) ?? "serialized",
                    Required(parseResult.GetValue(nonce), "--nonce"),
                    parseResult.GetValue(pcrList),
                    parseResult.GetValue(hash) ?? "sha256");
                var result = QuoteVerifier.Verify(request);
                Print(result, output);
                return result.IsValid ? Valid : Invalid;
            }
            catch (UnusableInputException e)
            {
                error.WriteLine($"error: {e.Message}");
                return UnusableInput;
            }
        });

        return new Command("quote", "TPM2_Quote verification.") { verify };
    }

    private static QuoteVerificationRequest BuildRequest(FileInfo keyFile, FileInfo messageFile, FileInfo signatureFile, FileInfo pcrFile, string pcrFormat, string nonceHex, string? pcrListText, string hashName)
    {
        var nonce = ParseHex(nonceHex);
        var expected = pcrListText is null ? null : Attempt(() => PcrSelectionList.Parse(pcrListText), $"--pcr-list '{pcrListText}'");
        var key = Attempt(() => TpmPublicKeys.Parse(Read(keyFile, "--public")), $"public key {keyFile.Name}");
        var message = Read(messageFile, "--message");
        var hash = hashName switch
        {
            "sha1" => TpmAlgId.Sha1,
            "sha384" => TpmAlgId.Sha384,
            "sha512" => TpmAlgId.Sha512,
            _ => TpmAlgId.Sha256,
        };
        var signatureBytes = Read(signatureFile, "--signature");
        var signature = Attempt(() => TpmSignatureVerifier.ParseSignature(signatureBytes, key, hash), $"signature {signatureFile.Name}");
        var pcrBytes = Read(pcrFile, "--pcrs");
        PcrValues values;
        if (pcrFormat == "values")
        {
            // The values form cannot be split without a selection: the one asked for, else the message's.
            var selection = expected ?? MessageSelection(message);
            values = selection is null ? PcrValues.Empty : Attempt(() => PcrValues.ParseValues(pcrBytes, selection), $"PCR file {pcrFile.Name}");
        }
        else
        {
            values = Attempt(() => PcrValues.ParseSerialized(pcrBytes, out _), $"PCR file {pcrFile.Name}");
        }

        return new QuoteVerificationRequest(key, message, signature, nonce, values) { ExpectedSelection = expected };
    }

    private static PcrSelectionList? MessageSelection(byte[] message)
    {
        try
        {
            return (TpmsAttest.Parse(message).Attested as QuoteInfo)?.PcrSelect;
        }
        catch (TpmException)
        {
            return null; // the verifier reports the malformed message
        }
    }

    private static void Print(QuoteVerificationResult result, TextWriter output)
    {
        foreach (var check in result.Checks)
        {
            var status = check.Status switch
            {
                QuoteCheckStatus.Passed => "ok",
                QuoteCheckStatus.Failed => "FAILED",
                _ => "skipped",
            };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{check.Kind,-13} {status,-8} {check.Detail}"));
        }

        if (result.IsValid)
        {
            output.WriteLine("quote: valid");
            return;
        }

        output.WriteLine("quote: INVALID");
        foreach (var failure in result.Failures)
        {
            output.WriteLine($"  - {failure}");
        }
    }

    private static byte[] ParseHex(string text)
    {
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new UnusableInputException($"--nonce '{text}' is not hex.");
        }
    }

    private static T Required<T>(T? value, string option) where T : class =>
        value ?? throw new UnusableInputException($"{option} is required.");

    private static byte[] Read(FileInfo file, string option)
    {
        try
        {
            return File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnusableInputException($"{option} {file.FullName}: {e.Message}");
        }
    }

    private static T Attempt<T>(Func<T> parse, string what)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException)
        {
            throw new UnusableInputException($"{what}: {e.Message}");
        }
    }

    private sealed class UnusableInputException(string message) : Exception(message);
}
