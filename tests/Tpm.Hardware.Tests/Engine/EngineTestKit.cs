using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>Helpers for engine command tests: engines, raw commands, response codes, .NET verification of TPM signatures.</summary>
internal static class EngineTestKit
{
    /// <summary>A started engine (deterministic unless <paramref name="seed"/> is null); <paramref name="configure"/> sets further options.</summary>
    public static SoftwareTpm NewTpm(ulong? seed = 1, int slots = 3, string? stateDirectory = null, Action<SoftwareTpmOptions>? configure = null, TimeProvider? timeProvider = null)
    {
        var options = new SoftwareTpmOptions { Seed = seed, AutoStartup = true, MaxTransientObjects = slots, StateDirectory = stateDirectory };
        configure?.Invoke(options);
        return new SoftwareTpm(options, timeProvider: timeProvider);
    }

    public static TpmRc P(TpmRc rc, int n) => TpmResponseCode.Parameter(rc, n);

    public static TpmRc H(TpmRc rc, int n) => TpmResponseCode.Handle(rc, n);

    /// <summary>The response code the client raised.</summary>
    public static TpmRc ErrorOf(Action action) => Assert.Throws<TpmException>(action).ResponseCode;

    /// <summary>A raw command: the first <paramref name="authCount"/> handles are authorized with empty passwords.</summary>
    public static byte[] Command(TpmCc code, uint[] handles, int authCount, Action<TpmWriter>? parameters)
    {
        var w = new TpmWriter();
        w.WriteU16((ushort)(authCount > 0 ? TpmSt.Sessions : TpmSt.NoSessions));
        var size = w.BeginSize32();
        w.WriteU32((uint)code);
        foreach (var h in handles)
        {
            w.WriteU32(h);
        }

        if (authCount > 0)
        {
            w.WriteU32((uint)(9 * authCount));
            for (var i = 0; i < authCount; i++)
            {
                w.WriteU32(TpmRh.Password);
                w.WriteU16(0);
                w.WriteU8((byte)TpmaSession.ContinueSession);
                w.WriteU16(0);
            }
        }

        parameters?.Invoke(w);
        w.EndSize32(size, includeField: true);
        return w.ToArray();
    }

    /// <summary>A raw command: header, then <paramref name="body"/> (handles, authorization area, parameters) as given.</summary>
    public static byte[] RawCommand(TpmSt tag, TpmCc code, params byte[] body)
    {
        var w = new TpmWriter();
        w.WriteU16((ushort)tag);
        w.WriteU32((uint)(10 + body.Length));
        w.WriteU32((uint)code);
        w.WriteBytes(body);
        return w.ToArray();
    }

    /// <summary>Runs a raw command and returns its response code.</summary>
    public static TpmRc Execute(SoftwareTpm tpm, TpmCc code, uint[] handles, int authCount, Action<TpmWriter>? parameters) =>
        Rc(tpm.Execute(Command(code, handles, authCount, parameters)));

    /// <summary>The response code of a raw response.</summary>
    public static TpmRc Rc(byte[] response) => (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));


    /// <summary>CreatePrimary parameters for a raw command.</summary>
    public static Action<TpmWriter> CreationParameters(TpmtPublic template, TpmsSensitiveCreate? sensitive = null, PcrSelectionList? pcrs = null) => w =>
    {
        (sensitive ?? TpmsSensitiveCreate.Empty).MarshalSized(w);
        template.MarshalSized(w);
        w.WriteTpm2b([]);
        (pcrs ?? PcrSelectionList.Empty).Marshal(w);
    };

    /// <summary>Verifies a TPM signature with .NET alone (independent of the engine).</summary>
    public static bool VerifyWithDotNet(TpmtPublic key, ReadOnlySpan<byte> digest, TpmtSignature signature)
    {
        switch (key.Unique)
        {
            case EccPoint point:
                using (var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point.X, Y = point.Y } }))
                {
                    return ecdsa.VerifyHash(digest, (byte[])[.. signature.SignatureR, .. signature.SignatureS], DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }

            case RsaPublicId rsaId:
                using (var rsa = RSA.Create(new RSAParameters { Modulus = rsaId.Modulus, Exponent = [1, 0, 1] }))
                {
                    var padding = signature.SigAlg == TpmAlgId.Rsapss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
                    return rsa.VerifyHash(digest, signature.RsaSignature, TpmHash.Name(signature.Hash), padding);
                }

            default:
                throw new ArgumentException("not an asymmetric key", nameof(key));
        }
    }

    /// <summary>A TPMT_PUBLIC for a software P-256 key with the given attributes and scheme.</summary>
    public static TpmtPublic EccPublic(ECParameters parameters, TpmaObject attributes, TpmtScheme scheme) => new(
        TpmAlgId.Ecc,
        TpmAlgId.Sha256,
        attributes,
        [],
        new EccParms(TpmtSymDef.Null, scheme, TpmEccCurve.NistP256, TpmtScheme.Null),
        new EccPoint(parameters.Q.X!, parameters.Q.Y!));

    /// <summary>Creates an SRK (ECC) in the owner hierarchy.</summary>
    public static CreatePrimaryResult Srk(Tpm2 client) => client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
}
