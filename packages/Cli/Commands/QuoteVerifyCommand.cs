using System.CommandLine;
using System.Globalization;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack quote verify</c>: checks a tpm2_quote output without a TPM. Exit codes: 0 the
/// quote is valid, 1 it is not (each failed check is printed), 2 the input is unusable (missing
/// option or file, bad hex, unreadable key, signature, PCR or previous-message file). A PEM/DER
/// key carries no TPM attributes: the output says plainly that they were not checked, and
/// <c>--require-restricted</c> / <c>--require-ak</c> refuse such a key.
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
        var requireRestricted = new Option<bool>("--require-restricted") { Description = "Refuse a key whose attributes cannot be checked (PEM/DER). A TPM2B_PUBLIC/TPMT_PUBLIC key must be a restricted signing key in any case." };
        var requireAk = new Option<bool>("--require-ak") { Description = "Require an attestation key: restricted signing key with fixedTPM and fixedParent (implies --require-restricted)." };
        var qualifiedName = new Option<FileInfo>("--qualified-name") { Description = "The signing key's qualified name (tpm2_readpublic -q): the quote's qualifiedSigner must equal it.", HelpName = "FILE" };
        var previous = new Option<FileInfo>("--previous-message") { Description = "An earlier quote message (TPMS_ATTEST) of the same key, verified before: clock, resetCount and restartCount must not go back, firmwareVersion must not change.", HelpName = "FILE" };
        var firmware = new Option<string>("--firmware-version") { Description = "The firmwareVersion the quote must carry (decimal, or hex with 0x).", HelpName = "N" };
        var requireSafe = new Option<bool>("--require-safe-clock") { Description = "Require clockInfo.safe (the TPM never reported a greater clock)." };

        var verify = new Command("verify", "Verify a TPM2_Quote: TPM-generated, a quote, the nonce, a restricted signing key and its scheme, the signature, the qualified signer, the PCR selection and digest; report (and on request check) clock info and firmware version.")
        {
            publicKey, message, signature, pcrs, pcrsFormat, nonce, pcrList, hash, requireRestricted, requireAk, qualifiedName, previous, firmware, requireSafe,
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
                request = request with
                {
                    RequireKnownKeyAttributes = parseResult.GetValue(requireRestricted),
                    RequireAttestationKey = parseResult.GetValue(requireAk),
                    ExpectedQualifiedSigner = parseResult.GetValue(qualifiedName) is { } qn ? Read(qn, "--qualified-name") : null,
                    PreviousQuote = parseResult.GetValue(previous) is { } p ? ParsePrevious(p) : null,
                    ExpectedFirmwareVersion = parseResult.GetValue(firmware) is { } f ? ParseFirmware(f) : null,
                    RequireSafeClock = parseResult.GetValue(requireSafe),
                };
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
        var keyBytes = Read(keyFile, "--public");
        var form = PublicKeyForm.PublicArea;
        var key = Attempt(() => TpmPublicKeys.Parse(keyBytes, out form), $"public key {keyFile.Name}");
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

        return new QuoteVerificationRequest(key, message, signature, nonce, values) { ExpectedSelection = expected, SigningKeyForm = form };
    }

    private static TpmsAttest ParsePrevious(FileInfo file)
    {
        var bytes = Read(file, "--previous-message");
        try
        {
            return TpmsAttest.Parse(bytes);
        }
        catch (TpmException e)
        {
            throw new UnusableInputException($"--previous-message {file.Name} is not a TPMS_ATTEST: {e.Message}");
        }
    }

    private static ulong ParseFirmware(string text)
    {
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        return ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UnusableInputException($"--firmware-version '{text}' is not a decimal or 0x-hex 64-bit number.");
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
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{check.Kind,-16} {status,-8} {check.Detail}"));
        }

        var attributesUnknown = result.SkippedChecks.Any(c => c.Kind == QuoteCheckKind.SigningKey);
        if (result.IsValid)
        {
            // Say it plainly: without the TPM's public area nothing shows the key is restricted,
            // and an unrestricted key signs any "quote".
            output.WriteLine(attributesUnknown
                ? "quote: valid, BUT the signing key's attributes could not be checked (a PEM/DER key): nothing shows it is a restricted TPM key; give its TPM2B_PUBLIC, or --require-restricted to refuse such a key"
                : "quote: valid");
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
