using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Attestation.TvpPca.Tests;

public sealed class TvpPcaCodecTests
{
    private readonly TestPlatforms _p = new();

    [Fact]
    public void Encode_RealTranscript_RoundTripsOctetExact()
    {
        using var host = _p.Host();
        var a = _p.Challenger(host.Transport).Attest(host.Agents[0].VmId);

        var top = TvpPcaCodec.Encode(a.TopResponse);
        var bottom = TvpPcaCodec.Encode(a.BottomResponse);

        Assert.Equal([TvpPcaCodec.Version, 2], top[..2]);
        Assert.Equal([TvpPcaCodec.Version, 4], bottom[..2]);
        Assert.Equal(top, TvpPcaCodec.Encode(TvpPcaCodec.DecodeTopResponse(top)));
        Assert.Equal(bottom, TvpPcaCodec.Encode(TvpPcaCodec.DecodeBottomResponse(bottom)));
        var challenge = TvpPcaCodec.DecodeTopChallenge(TvpPcaCodec.Encode(a.TopChallenge));
        Assert.Equal(a.TopChallenge.VmId, challenge.VmId);
        Assert.Equal(a.TopChallenge.Nonce, challenge.Nonce);
        Assert.Equal(a.TopChallenge.Pcrs.Enumerate(), challenge.Pcrs.Enumerate());
        var decoded = TvpPcaCodec.DecodeBottomChallenge(TvpPcaCodec.Encode(a.BottomChallenge));
        Assert.Equal(a.BottomChallenge.Nonce, decoded.Nonce);
    }

    [Fact]
    public void DecodeTopResponse_CallerDisposesCertificates_LaterDecodesUnaffected()
    {
        using var host = _p.Host();
        var a = _p.Challenger(host.Transport).Attest(host.Agents[0].VmId);
        var top = TvpPcaCodec.Encode(a.TopResponse);
        var bottom = TvpPcaCodec.Encode(a.BottomResponse);

        // Parsed certificates are cached by their octets; what a decode returns is the caller's to dispose.
        var first = TvpPcaCodec.DecodeTopResponse(top);
        var firstAik = TvpPcaCodec.DecodeBottomResponse(bottom).AikCertificate;
        foreach (var c in first.VAikChain)
        {
            c.Dispose();
        }

        firstAik.Dispose();
        var second = TvpPcaCodec.DecodeTopResponse(top);
        var secondAik = TvpPcaCodec.DecodeBottomResponse(bottom).AikCertificate;

        Assert.Equal(a.TopResponse.VAikChain.Select(c => c.RawData), second.VAikChain.Select(c => c.RawData));
        Assert.All(second.VAikChain.Zip(first.VAikChain), pair => Assert.NotSame(pair.First, pair.Second));
        Assert.Equal(a.BottomResponse.AikCertificate.Thumbprint, secondAik.Thumbprint);
        Assert.NotNull(second.VAikChain[0].PublicKey.GetECDsaPublicKey());
        Assert.Equal(top, TvpPcaCodec.Encode(second));
    }

    [Fact]
    public void DecodeTopChallenge_KnownOctets_ReadsFields()
    {
        var vm = new Guid("00112233-4455-6677-8899-aabbccddeeff");
        byte[] expected =
        [
            2, 1, 0, 0, 0, 16, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0, 2, 0xab, 0xcd,
            0, 0, 0, 10, 0, 0, 0, 1, 0x00, 0x0b, 3, 0x03, 0x00, 0x80, // TPML_PCR_SELECTION: sha256 PCRs 0, 1, 23
        ];

        Assert.Equal(expected, TvpPcaCodec.Encode(new TopChallenge(vm, [0xab, 0xcd], PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 23))));
        var decoded = TvpPcaCodec.DecodeTopChallenge(expected);
        Assert.Equal(vm, decoded.VmId);
        Assert.Equal([(TpmAlgId.Sha256, 0), (TpmAlgId.Sha256, 1), (TpmAlgId.Sha256, 23)], decoded.Pcrs.Enumerate());
    }

    [Fact]
    public void DecodeTopChallenge_Version1_ThrowsNamingTheVersion()
    {
        var data = TvpPcaCodec.Encode(new TopChallenge(Guid.Empty, [1]));
        data[0] = 1;
        Assert.Contains("version 1", Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeTopChallenge(data)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeTopChallenge_UnknownVersion_Throws()
    {
        var data = TvpPcaCodec.Encode(new TopChallenge(Guid.Empty, [1]));
        data[0] = 3;
        Assert.Contains("version 3", Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeTopChallenge(data)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeTopChallenge_MalformedPcrSelection_Throws()
    {
        var data = TvpPcaCodec.Encode(new TopChallenge(Guid.Empty, [1]));
        data[^7] = 0xff; // selection count far beyond the banks
        Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeTopChallenge(data));
    }

    [Fact]
    public void DecodeBottomChallenge_WrongTypeTruncatedOrTrailing_Throws()
    {
        var data = TvpPcaCodec.Encode(new BottomChallenge(Guid.Empty, [1, 2, 3]));
        Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeTopChallenge(data));
        Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeBottomChallenge(data.AsSpan(0, data.Length - 1)));
        Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeBottomChallenge([.. data, 0]));
    }

    [Fact]
    public void AddTvpPca_WithoutReferences_HostFailsToStartSayingWhatToConfigure()
    {
        // Issue 19, finding 5: it used to fall back to the public demo platform's reference values.
        using var host = _p.Host();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(_p.Clock).AddSingleton(host.Transport).AddTvpPcaPrivacyCa(_p.Pca).AddTvpPca();
        using var app = builder.Build();

        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => app.Start());

        Assert.Contains("TvpPcaOptions.References is not set", e.Message, StringComparison.Ordinal);
        Assert.Contains("TvpQtReferenceFile.Load", e.Message, StringComparison.Ordinal);
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => app.Services.GetRequiredService<Challenger>());
    }

    [Fact]
    public void AddTvpPca_ReferencesWithoutTrustedVTpmBuilds_FailsSayingWhich()
    {
        using var host = _p.Host();
        using var sp = new ServiceCollection()
            .AddSingleton<TimeProvider>(_p.Clock).AddSingleton(host.Transport).AddTvpPcaPrivacyCa(_p.Pca)
            .AddTvpPca(o => o.References = TvpPcaHost.ExpectedReferences with { TrustedVTpmCode = [] })
            .BuildServiceProvider();

        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => sp.GetRequiredService<TvpPcaVerifier>());

        Assert.Contains("TrustedVTpmCode is empty", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("absurd DER length")]
    [InlineData("truncated DER")]
    [InlineData("empty")]
    [InlineData("trailing octets")]
    public void DecodeBottomResponse_HostileAikCertificate_FormatException(string change)
    {
        using var host = _p.Host();
        var a = _p.Challenger(host.Transport).Attest(host.Agents[0].VmId);
        var encoded = TvpPcaCodec.Encode(a.BottomResponse);
        var der = a.BottomResponse.AikCertificate.RawData;
        var prefix = encoded[..(encoded.Length - der.Length - 4)];
        var hostile = change switch
        {
            "absurd DER length" => [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, .. der[4..]],
            "truncated DER" => der[..(der.Length / 2)],
            "empty" => [],
            _ => (byte[])[.. der, 0x00],
        };

        var e = Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeBottomResponse([.. prefix, .. BigEndian(hostile.Length), .. hostile]));

        Assert.Contains("certificate", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DecodeTopResponse_KeyWithAbsurdTpm2bSize_FormatException()
    {
        // The vEK TPMT_PUBLIC's unique.x claims 0xffff octets.
        using var host = _p.Host();
        var a = _p.Challenger(host.Transport).Attest(host.Agents[0].VmId);
        var encoded = TvpPcaCodec.Encode(a.TopResponse);
        var vek = a.TopResponse.VEkPublic.ToBytes();
        var at = IndexOf(encoded, vek);
        var x = ((EccPoint)a.TopResponse.VEkPublic.Unique).X;
        var xAt = at + vek.Length - (2 + x.Length) - (2 + x.Length);
        encoded[xAt] = 0xff;
        encoded[xAt + 1] = 0xff;

        Assert.Throws<FormatException>(() => TvpPcaCodec.DecodeTopResponse(encoded));
    }

    private static byte[] BigEndian(int value) => [unchecked((byte)(value >> 24)), unchecked((byte)(value >> 16)), unchecked((byte)(value >> 8)), unchecked((byte)value)];

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("Pattern not found.");
    }

    [Fact]
    public void AddTvpPca_WithPcaAndTransport_ResolvesWorkingChallenger()
    {
        using var host = _p.Host();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_p.Clock)
            .AddSingleton<IRandomSource>(DeterministicRandomSource.FromSeed(7))
            .AddSingleton(host.Transport)
            .AddTvpPcaPrivacyCa(_p.Pca);
        services.AddTvpPca(o => o.References = TvpPcaHost.ExpectedReferences).AddTvpPca();
        using var sp = services.BuildServiceProvider();

        var result = sp.GetRequiredService<Challenger>().Attest(host.Agents[0].VmId).Result;

        Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
    }
}

public sealed class TvpPcaCodecPropertyTests
{
    private static readonly Lazy<byte[][]> RealMessages = new(() =>
    {
        var p = new TestPlatforms();
        using var host = p.Host();
        var a = p.Challenger(host.Transport).Attest(host.Agents[0].VmId);
        var query = new EndorsementQuery(new byte[32], new byte[32]);
        return [TvpPcaCodec.Encode(a.TopChallenge), TvpPcaCodec.Encode(a.TopResponse), TvpPcaCodec.Encode(a.BottomChallenge), TvpPcaCodec.Encode(a.BottomResponse), TvpPcaCodec.Encode(query), TvpPcaCodec.Encode(p.Pca.Answer(query))];
    });

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Decode_RandomOctets_OnlyFormatException(byte[] data, byte type)
    {
        var message = (byte[])[TvpPcaCodec.Version, unchecked((byte)((type % 6) + 1)), .. data ?? []];
        return DecodesOrFormatException(message);
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Decode_RealMessageWithOneOctetChangedOrCut_OnlyFormatException(int which, int position, byte value, bool cut)
    {
        var original = RealMessages.Value[(int)(unchecked((uint)which) % 6)];
        var i = (int)(unchecked((uint)position) % (uint)original.Length);
        var message = cut ? original[..i] : (byte[])original.Clone();
        if (!cut)
        {
            message[i] = value;
        }

        return DecodesOrFormatException(message);
    }

    private static bool DecodesOrFormatException(byte[] message)
    {
        try
        {
            _ = message.Length > 1 ? message[1] switch
            {
                1 => (object)TvpPcaCodec.DecodeTopChallenge(message),
                2 => TvpPcaCodec.DecodeTopResponse(message),
                3 => TvpPcaCodec.DecodeBottomChallenge(message),
                4 => TvpPcaCodec.DecodeBottomResponse(message),
                5 => TvpPcaCodec.DecodeEndorsementQuery(message),
                _ => TvpPcaCodec.DecodeEndorsementAnswer(message),
            } : TvpPcaCodec.DecodeTopChallenge(message);
            return true;
        }
        catch (FormatException)
        {
            return true;
        }
    }
}
