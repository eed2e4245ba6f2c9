using System.Numerics;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The TPM role played by a TPM 2.0 over any transport (our <see cref="SoftwareTpm"/>, swtpm/libtpms,
/// a device): the DAA key is an unrestricted NIST P-256 signing key with scheme ECDAA/SHA-256,
/// commitments are TPM2_Commit, the split signature is TPM2_Sign(ECDAA), and the endorsement is the
/// TCG EK (ECC P-256) with TPM2_ActivateCredential under a PolicySecret(endorsement) session.
/// </summary>
public sealed class Tpm2TmzTpm : ITmzTpm, IDisposable
{
    private readonly Tpm2 _client;
    private readonly DaaOpCounter? _counter;
    private readonly P256Group _group;
    private readonly uint _keyHandle;
    private readonly uint _ekHandle;
    private bool _disposed;

    /// <summary>Creates the EK and the ECDAA key as primaries (endorsement and owner hierarchy, empty auth).</summary>
    /// <param name="client">The client on a started TPM.</param>
    /// <param name="counter">Optional counter: records the TPM's group operations (as the software role counts them).</param>
    public Tpm2TmzTpm(Tpm2 client, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _counter = counter;
        _group = (P256Group)DaaGroup.P256;
        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        _ekHandle = ek.Handle;
        try
        {
            var key = client.CreatePrimary(TpmRh.Owner, KeyTemplate());
            _keyHandle = key.Handle;
            var unique = (EccPoint)key.Public.Unique;
            PublicKey = _group.FromAffine(unique.X, unique.Y);
            Endorsement = new TmzEndorsement(ek.Public, key.Public, null, PublicKey);
        }
        catch
        {
            client.FlushContext(_ekHandle);
            throw;
        }
    }

    /// <inheritdoc/>
    public DaaGroup Group => _group;

    /// <inheritdoc/>
    public DaaPoint PublicKey { get; }

    /// <inheritdoc/>
    public TmzEndorsement Endorsement { get; }

    /// <summary>The ECDAA key's handle.</summary>
    public uint KeyHandle => _keyHandle;

    /// <summary>The DAA key template: unrestricted NIST P-256 signing key, scheme ECDAA with SHA-256.</summary>
    /// <returns>The template.</returns>
    public static TpmtPublic KeyTemplate() => TpmTemplates.SigningEccP256(new TpmtScheme(TpmAlgId.Ecdaa, TpmAlgId.Sha256, 0));

    /// <inheritdoc/>
    public byte[] ActivateCredential(TpmCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var session = _client.StartAuthSession(TpmSe.Policy);
        try
        {
            _client.PolicySecret(session, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
            return _client.ActivateCredential(_keyHandle, _ekHandle, credential.CredentialBlob, credential.Secret, TpmAuthorization.EmptyPassword, TpmAuthorization.Session(session, attributes: TpmaSession.None));
        }
        finally
        {
            if (!session.IsClosed)
            {
                _client.FlushContext(session);
            }
        }
    }

    /// <inheritdoc/>
    public TmzCommitment Commit(DaaPoint? p1, DaaHashedPoint? basename)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EccPoint? point = null;
        if (p1 is not null)
        {
            var (x, y) = _group.ToAffine(p1);
            point = new EccPoint(x, y);
        }

        if (basename is not null && (basename.S2 is null || basename.Y2 is null))
        {
            throw new ArgumentException("J has no (s2, y2) witness", nameof(basename));
        }

        var result = _client.Commit(_keyHandle, point, basename?.S2, basename?.Y2);
        // Counted as the software TPM role counts them (E = k·G on the fixed-base path when P1 is G).
        _counter?.Mul(1, p1 is null || _group.TakesFixedBasePath(p1) ? 1 : 0);
        if (basename is not null)
        {
            _counter?.Mul(1, 0);
            _counter?.Mul(1, 0);
        }

        return new TmzCommitment(
            Decode(result.E) ?? throw new TpmException(TpmRc.NoResult, "the TPM returned no E"),
            Decode(result.K),
            Decode(result.L),
            result.Counter);
    }

    /// <inheritdoc/>
    public TmzTpmSignature Sign(ushort counter, byte[] digest)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var signature = _client.SignEcdaa(_keyHandle, digest, counter);
        _counter?.Hash();
        return new TmzTpmSignature(signature.SignatureR, new BigInteger(signature.SignatureS, isUnsigned: true, isBigEndian: true));
    }

    /// <summary>Flushes the EK and the DAA key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _client.FlushContext(_keyHandle);
        _client.FlushContext(_ekHandle);
    }

    private DaaPoint? Decode(EccPoint point) => point.X.Length == 0 && point.Y.Length == 0 ? null : _group.FromAffine(point.X, point.Y);
}
