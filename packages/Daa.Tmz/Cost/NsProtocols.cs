namespace TrustStack.Daa.Tmz;

/// <summary>The protocol descriptions of the normalized-statistics model: BCC04 RSA-DAA, ECDAA (BN_P256) and TMZ-DAA.</summary>
public static class NsProtocols
{
    /// <summary>
    /// TMZ-DAA exactly as this package implements it (with a basename, empty rogue list); the
    /// counts, fixed-base multiplications included, equal what <see cref="DaaOpCounter"/> records in
    /// real runs (a test checks it). The group's <see cref="NsGroupArithmetic"/> is that of the
    /// library that runs it (BouncyCastle for P-256, libsodium for ristretto255).
    /// </summary>
    /// <param name="group">The group.</param>
    /// <returns>The description.</returns>
    public static NsProtocol TmzDaa(DaaGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var b = group.FieldBits;
        var p256 = group.Name == "p256";
        NsStep S(NsEntity e, NsPhase p, NsOperation o, int count, string what, int terms = 1, int blocks = 1, int fixedTerms = 0) => new(e, p, o, count, b, 0, terms, blocks, what, fixedTerms);

        // Which bases take the implementation's fixed-base path: P-256 multiplies every long-lived base
        // (G, H, the issuer's X1, the host's credential U, U', F) with its comb, and a sum only when all
        // its bases are long-lived (joint comb); libsodium has a table for G alone and no sums.
        var longLived = p256 ? NsOperation.EcFixedBaseMultiplication : NsOperation.EcScalarMultiplication;
        int Fixed(params bool[] bases) => p256 ? (bases.All(x => x) ? bases.Length : 0) : bases.Count(x => x);
        const bool G = true, Other = false;
        var lived = p256;
        const NsOperation Mul = NsOperation.EcScalarMultiplication, FixedMul = NsOperation.EcFixedBaseMultiplication, Msm = NsOperation.EcMultiScalarMultiplication, Add = NsOperation.EcAddition, Hash = NsOperation.Hash, H2G = NsOperation.HashToGroup;
        const NsEntity Tpm = NsEntity.Tpm, Host = NsEntity.Host, Issuer = NsEntity.Issuer, Verifier = NsEntity.Verifier;
        return new NsProtocol(
            $"TMZ-DAA/{group.Name}",
            $"TMZ-DAA in {group.Name} (daa.md), with basename; TPM role as TPM2_Commit + TPM2_Sign(ECDAA)",
            p256,
            [
                S(Issuer, NsPhase.Setup, Msm, 2, "X0 = x0·G + x0~·H; A0", terms: 2, fixedTerms: Fixed(G, lived)),
                S(Issuer, NsPhase.Setup, longLived, 2, "X1 = x1·H; A1"),
                S(Issuer, NsPhase.Setup, Hash, 1, "proof challenge", blocks: 6),

                S(Tpm, NsPhase.Join, FixedMul, 1, "E = k·G (TPM2_Commit)"),
                S(Tpm, NsPhase.Join, Hash, 1, "c = H(nT ‖ c') (TPM2_Sign)", blocks: 2),
                S(Host, NsPhase.Join, Hash, 3, "c', c, issuer proof challenge", blocks: 4),
                S(Host, NsPhase.Join, Msm, 1, "check issuer proof: A0' = s0·G + s0~·H − c·X0", terms: 3, fixedTerms: Fixed(G, lived, Other)),
                S(Host, NsPhase.Join, Msm, 1, "check issuer proof: A2' = s0·U + s1·F − c·U'", terms: 3, fixedTerms: Fixed(Other, Other, Other)),
                S(Host, NsPhase.Join, Msm, 1, "check issuer proof: A1' = s1·H − c·X1", terms: 2, fixedTerms: Fixed(lived, lived)),
                S(Issuer, NsPhase.Join, Msm, 1, "E' = s·G − c·Q", terms: 2, fixedTerms: Fixed(G, Other)),
                S(Issuer, NsPhase.Join, Hash, 3, "c', c, proof challenge", blocks: 4),
                S(Issuer, NsPhase.Join, FixedMul, 1, "U = b·G"),
                S(Issuer, NsPhase.Join, Mul, 1, "F = b·Q"),
                S(Issuer, NsPhase.Join, longLived, 1, "A1 = a1·H"),
                S(Issuer, NsPhase.Join, Msm, 2, "U' = x0·U + x1·F, A2 = a0·U + a1·F", terms: 2, fixedTerms: Fixed(Other, Other)),
                S(Issuer, NsPhase.Join, Msm, 1, "A0 = a0·G + a0~·H", terms: 2, fixedTerms: Fixed(G, lived)),

                S(Tpm, NsPhase.Sign, Mul, 3, "E = k·Ur, K = N = f·J, L = k·J (TPM2_Commit)"),
                S(Tpm, NsPhase.Sign, Hash, 1, "c = H(nT ‖ c') (TPM2_Sign)", blocks: 2),
                S(Host, NsPhase.Sign, longLived, 5, "Ur, U'r, Fr, z·H, kz·H"),
                S(Host, NsPhase.Sign, FixedMul, 1, "r'·G"),
                S(Host, NsPhase.Sign, Add, 3, "Cf, CU, T1"),
                S(Host, NsPhase.Sign, Msm, 1, "T2 = kz·X1 − kr·G", terms: 2, fixedTerms: Fixed(lived, G)),
                S(Host, NsPhase.Sign, H2G, 1, "J = H(bsn)"),
                S(Host, NsPhase.Sign, Hash, 2, "c', c", blocks: 8),

                S(Verifier, NsPhase.Verify, H2G, 1, "J = H(bsn)"),
                S(Verifier, NsPhase.Verify, Msm, 2, "x0·Ur + x1·Cf; T3'", terms: 2, fixedTerms: Fixed(Other, Other)),
                S(Verifier, NsPhase.Verify, Add, 1, "V = … − CU"),
                S(Verifier, NsPhase.Verify, Msm, 1, "T1' = sf·Ur + sz·H − c·Cf", terms: 3, fixedTerms: Fixed(Other, lived, Other)),
                S(Verifier, NsPhase.Verify, Msm, 1, "T2' = sz·X1 − sr·G − c·V", terms: 3, fixedTerms: Fixed(lived, G, Other)),
                S(Verifier, NsPhase.Verify, Hash, 2, "c', c", blocks: 8),
            ],
            p256 ? NsGroupArithmetic.BouncyCastleP256 : NsGroupArithmetic.LibsodiumRistretto255);
    }

    /// <summary>
    /// ECDAA on BN_P256 (FIDO ECDAA / TPM 2.0, as daa.md describes it): G1 operations at 256 bits,
    /// issuer keys in G2, 4 pairings per verification (and per credential check in Join). The counts
    /// equal what <see cref="EcdaaOpCounter"/> records in real runs of <see cref="EcdaaHost"/> and its
    /// peers (a test checks it; the Host's Join proof check and its c = H(nT ‖ c') were missing before).
    /// </summary>
    /// <returns>The description.</returns>
    public static NsProtocol Ecdaa()
    {
        const int B = 256;
        NsStep S(NsEntity e, NsPhase p, NsOperation o, int count, string what, int terms = 1, int blocks = 1) => new(e, p, o, count, B, 0, terms, blocks, what);
        const NsOperation Mul = NsOperation.EcScalarMultiplication, Msm = NsOperation.EcMultiScalarMultiplication, Add = NsOperation.EcAddition, Hash = NsOperation.Hash, H2G = NsOperation.HashToGroup;
        return new NsProtocol(
            "ECDAA/BN_P256",
            "ECDAA (Camenisch–Drijvers–Lehmann 2016, FIDO ECDAA) on TPM_ECC_BN_P256; counts from daa.md's description",
            true,
            [
                S(NsEntity.Issuer, NsPhase.Setup, NsOperation.EcScalarMultiplicationG2, 4, "X = x·P2, Y = y·P2 and the proof's commitments"),
                S(NsEntity.Issuer, NsPhase.Setup, Hash, 1, "proof challenge", blocks: 4),

                S(NsEntity.Tpm, NsPhase.Join, Mul, 1, "E = k·P1"),
                S(NsEntity.Tpm, NsPhase.Join, Hash, 1, "c = H(nT ‖ c')", blocks: 2),
                S(NsEntity.Host, NsPhase.Join, Hash, 3, "c', c, issuer proof challenge", blocks: 3),
                S(NsEntity.Host, NsPhase.Join, Msm, 2, "check issuer proof: s·P1 − c·B, s·Q − c·D", terms: 2),
                S(NsEntity.Host, NsPhase.Join, NsOperation.Pairing, 4, "e(A, Y) = e(B, P2), e(C, P2) = e(A + D, X)"),
                S(NsEntity.Host, NsPhase.Join, Add, 1, "A + D"),
                S(NsEntity.Issuer, NsPhase.Join, Msm, 1, "E' = s·P1 − c·Q", terms: 2),
                S(NsEntity.Issuer, NsPhase.Join, Hash, 3, "c', c, proof challenge", blocks: 3),
                S(NsEntity.Issuer, NsPhase.Join, Mul, 6, "A = l·P1, B = y·A, D = (l·y)·Q, C = x·(A + D), proof commitments"),
                S(NsEntity.Issuer, NsPhase.Join, Add, 1, "A + D"),

                S(NsEntity.Tpm, NsPhase.Sign, Mul, 3, "E = k·S, K = f·J, L = k·J"),
                S(NsEntity.Tpm, NsPhase.Sign, Hash, 1, "c = H(nT ‖ c')", blocks: 2),
                S(NsEntity.Host, NsPhase.Sign, Mul, 4, "(R, S, T, W) = l·(A, B, C, D)"),
                S(NsEntity.Host, NsPhase.Sign, H2G, 1, "J = H(bsn)"),
                S(NsEntity.Host, NsPhase.Sign, Hash, 2, "c', c = H(nT ‖ c')", blocks: 6),

                S(NsEntity.Verifier, NsPhase.Verify, NsOperation.Pairing, 4, "e(R, Y) = e(S, P2), e(T, P2) = e(R + W, X)"),
                S(NsEntity.Verifier, NsPhase.Verify, Add, 1, "R + W"),
                S(NsEntity.Verifier, NsPhase.Verify, Msm, 2, "s·S − c·W, s·J − c·K", terms: 2),
                S(NsEntity.Verifier, NsPhase.Verify, H2G, 1, "J = H(bsn)"),
                S(NsEntity.Verifier, NsPhase.Verify, Hash, 2, "c', c", blocks: 6),
            ]);
    }

    /// <summary>
    /// BCC04 RSA-DAA (Brickell, Camenisch, Chen, CCS 2004) with its parameters ln = 2048, lΓ = 1632,
    /// lρ = 208: an approximate count of modular exponentiations (multi-exponentiations counted as
    /// one per base), from the paper's protocol; setup includes the issuer's binary-challenge proof
    /// of the key's structure.
    /// </summary>
    /// <returns>The description.</returns>
    public static NsProtocol Bcc04() =>
        new(
            "BCC04/RSA-2048",
            "RSA-based DAA (Brickell–Camenisch–Chen 2004), ln = 2048, lΓ = 1632, lρ = 208; approximate counts",
            false,
            [
                Exp(NsEntity.Issuer, NsPhase.Setup, 480, 2048, 2048, "key-structure proof (160 rounds × 3)"),
                Exp(NsEntity.Tpm, NsPhase.Join, 6, 600, 2048, "U = R0^f0·R1^f1·S^v' and its proof"),
                Exp(NsEntity.Tpm, NsPhase.Join, 2, 208, 1632, "NI = ζI^f and its proof"),
                Exp(NsEntity.Host, NsPhase.Join, 2, 2048, 2048, "credential check A^e·S^v = Z/U"),
                Exp(NsEntity.Issuer, NsPhase.Join, 4, 600, 2048, "verify the TPM's proof over U"),
                Exp(NsEntity.Issuer, NsPhase.Join, 2, 208, 1632, "verify the proof over NI"),
                Exp(NsEntity.Issuer, NsPhase.Join, 3, 2048, 2048, "A = (Z/(U·S^v''))^(1/e) and its proof"),
                Exp(NsEntity.Tpm, NsPhase.Sign, 3, 600, 2048, "T~1 commitment R0^rf0·R1^rf1·S^rv"),
                Exp(NsEntity.Tpm, NsPhase.Sign, 2, 208, 1632, "NV = ζ^f, T~N"),
                Exp(NsEntity.Host, NsPhase.Sign, 7, 2048, 2048, "T1 = A·h^w, T2 = g^w·h^e·g'^r and commitments"),
                Exp(NsEntity.Verifier, NsPhase.Verify, 8, 2048, 2048, "recompute the commitments"),
                Exp(NsEntity.Verifier, NsPhase.Verify, 2, 208, 1632, "recompute T~N, check NV"),
                new(NsEntity.Verifier, NsPhase.Verify, NsOperation.Hash, 2, 256, Blocks: 12, What: "c, c'"),
                new(NsEntity.Host, NsPhase.Sign, NsOperation.Hash, 1, 256, Blocks: 12, What: "c'"),
                new(NsEntity.Tpm, NsPhase.Sign, NsOperation.Hash, 1, 256, Blocks: 2, What: "c"),
            ]);

    /// <summary>The three protocols side by side: BCC04, ECDAA and TMZ-DAA in both groups.</summary>
    /// <returns>The descriptions.</returns>
    public static IReadOnlyList<NsProtocol> All() => [Bcc04(), Ecdaa(), TmzDaa(DaaGroup.P256), TmzDaa(DaaGroup.Ristretto255)];

    private static NsStep Exp(NsEntity entity, NsPhase phase, int count, int exponentBits, int modulusBits, string what) =>
        new(entity, phase, NsOperation.ModularExponentiation, count, exponentBits, modulusBits, What: what);
}
