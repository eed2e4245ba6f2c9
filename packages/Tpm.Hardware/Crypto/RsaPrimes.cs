using System.Numerics;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Deterministic RSA prime generation: every random octet comes from the caller's
/// <see cref="IRandomSource"/>, so a seeded source (primary keys) always yields the same primes.
/// A random odd start with its two top bits set (so p·q has exactly the requested size, FIPS 186-4
/// B.3.1), an incremental search over a small-prime sieve, then Miller–Rabin with random bases
/// (FIPS 186-4 C.3.1, round counts from Table C.3).
/// </summary>
/// <remarks>
/// .NET's BigInteger.ModPow costs about 5 ms at 1024 bits, which made RSA-2048 generation take
/// close to a second; the Miller–Rabin exponentiations therefore use <see cref="Montgomery"/>
/// (64-bit limbs), about ten times faster. Everything else stays on System.Numerics.BigInteger.
/// </remarks>
internal static class RsaPrimes
{
    private const int SieveWindow = 4096;
    private const int SmallPrimeLimit = 1 << 15;

    private static readonly uint[] SmallPrimes = BuildSmallPrimes();

    /// <summary>Generates the two primes of a <paramref name="keyBits"/>-bit modulus with public exponent <paramref name="exponent"/>.</summary>
    public static (BigInteger P, BigInteger Q) GeneratePair(int keyBits, uint exponent, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (keyBits < 512 || keyBits % 128 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(keyBits), keyBits, "RSA key sizes are multiples of 128 bits from 512.");
        }

        var primeBits = keyBits / 2;
        var p = GeneratePrime(primeBits, exponent, random);
        while (true)
        {
            var q = GeneratePrime(primeBits, exponent, random);

            // FIPS 186-4 B.3.3 step 5.4: |p - q| > 2^(nlen/2 - 100).
            if (BigInteger.Abs(p - q) > BigInteger.One << (primeBits - 100))
            {
                return (p, q);
            }
        }
    }

    /// <summary>A probable prime of exactly <paramref name="bits"/> bits, top two bits set, with gcd(p - 1, e) = 1.</summary>
    public static BigInteger GeneratePrime(int bits, uint exponent, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var octets = bits / 8;
        var buffer = new byte[octets];
        var residues = new uint[SmallPrimes.Length];
        var composite = new bool[SieveWindow];
        var rounds = MillerRabinRounds(bits);
        try
        {
            while (true)
            {
                random.Fill(buffer);
                buffer[0] |= 0xC0;
                buffer[^1] |= 0x01;
                var start = new BigInteger(buffer, isUnsigned: true, isBigEndian: true);
                for (var i = 0; i < SmallPrimes.Length; i++)
                {
                    residues[i] = (uint)(start % SmallPrimes[i]);
                }

                Array.Clear(composite);
                for (var i = 0; i < SmallPrimes.Length; i++)
                {
                    // Mark start + 2k divisible by prime: 2k ≡ -r (mod prime).
                    var prime = SmallPrimes[i];
                    var r = residues[i];
                    var k = r == 0 ? 0 : ((prime - r) % 2 == 0 ? (prime - r) / 2 : ((2 * prime) - r) / 2);
                    for (var j = k; j < SieveWindow; j += prime)
                    {
                        composite[j] = true;
                    }
                }

                for (var k = 0; k < SieveWindow; k++)
                {
                    if (composite[k])
                    {
                        continue;
                    }

                    var candidate = start + (2 * k);
                    if (candidate.GetBitLength() != bits)
                    {
                        break;
                    }

                    if (exponent != 0 && BigInteger.GreatestCommonDivisor(candidate - 1, exponent) != BigInteger.One)
                    {
                        continue;
                    }

                    if (IsProbablePrime(candidate, rounds, random))
                    {
                        return candidate;
                    }
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>Miller–Rabin with <paramref name="rounds"/> random bases from <paramref name="random"/> (FIPS 186-4 C.3.1).</summary>
    public static bool IsProbablePrime(BigInteger w, int rounds, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (w < 2)
        {
            return false;
        }

        if (w < SmallPrimeLimit)
        {
            return Array.BinarySearch(SmallPrimes, (uint)w) >= 0 || w == 2;
        }

        if (w.IsEven)
        {
            return false;
        }

        var wMinus1 = w - 1;
        var a = 0;
        var m = wMinus1;
        while (m.IsEven)
        {
            m >>= 1;
            a++;
        }

        var mont = new Montgomery(w);
        var exponent = m.ToByteArray(isUnsigned: true, isBigEndian: true);
        var octets = (int)((w.GetBitLength() + 7) / 8);
        var baseBytes = new byte[octets];
        var x = mont.NewValue();
        for (var round = 0; round < rounds; round++)
        {
            // b uniform in [2, w - 2] by rejection sampling (C.3.1 step 4).
            BigInteger b;
            do
            {
                random.Fill(baseBytes);
                var excessBits = (octets * 8) - (int)w.GetBitLength();
                baseBytes[0] &= (byte)(0xFF >> excessBits);
                b = new BigInteger(baseBytes, isUnsigned: true, isBigEndian: true);
            }
            while (b <= 1 || b >= wMinus1);

            mont.ModPow(b, exponent, x);
            if (mont.IsOne(x) || mont.IsMinusOne(x))
            {
                continue;
            }

            var witness = true;
            for (var j = 1; j < a; j++)
            {
                mont.Square(x);
                if (mont.IsMinusOne(x))
                {
                    witness = false;
                    break;
                }

                if (mont.IsOne(x))
                {
                    break;
                }
            }

            if (witness)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>FIPS 186-4 Table C.3 (error probability 2^-100) rounds for a prime of <paramref name="bits"/> bits.</summary>
    internal static int MillerRabinRounds(int bits) => bits switch
    {
        >= 1536 => 4,
        >= 1024 => 5,
        >= 512 => 7,
        _ => 40,
    };

    private static uint[] BuildSmallPrimes()
    {
        var sieve = new bool[SmallPrimeLimit];
        var primes = new List<uint>();
        for (var i = 3; i < SmallPrimeLimit; i += 2)
        {
            if (sieve[i])
            {
                continue;
            }

            primes.Add((uint)i);
            for (var j = i * i; j < SmallPrimeLimit; j += 2 * i)
            {
                sieve[j] = true;
            }
        }

        return [.. primes];
    }

    /// <summary>Montgomery arithmetic modulo an odd modulus with 64-bit limbs (CIOS multiplication).</summary>
    internal sealed class Montgomery
    {
        private readonly ulong[] _n;
        private readonly ulong _n0Inv;
        private readonly ulong[] _one;
        private readonly ulong[] _minusOne;
        private readonly ulong[] _rSquared;
        private readonly ulong[] _t;
        private readonly int _s;

        public Montgomery(BigInteger modulus)
        {
            if (modulus.IsEven || modulus.Sign <= 0)
            {
                throw new ArgumentException("Montgomery arithmetic needs an odd positive modulus.", nameof(modulus));
            }

            _s = (int)((modulus.GetBitLength() + 63) / 64);
            _n = ToLimbs(modulus, _s);
            _n0Inv = NegInverse(_n[0]);
            var r = BigInteger.One << (64 * _s);
            _one = ToLimbs(r % modulus, _s);
            _minusOne = ToLimbs(modulus - (r % modulus), _s);
            _rSquared = ToLimbs(r * r % modulus, _s);
            _t = new ulong[_s + 2];
        }

        public ulong[] NewValue() => new ulong[_s];

        /// <summary>result = Mont(b^e) (the Montgomery form of b^e mod n).</summary>
        public void ModPow(BigInteger b, byte[] exponentBigEndian, ulong[] result)
        {
            // Fixed 4-bit window: table[i] = Mont(b^i).
            var table = new ulong[16][];
            table[0] = (ulong[])_one.Clone();
            table[1] = ToLimbs(b, _s);
            Multiply(table[1], _rSquared, table[1]);
            for (var i = 2; i < 16; i++)
            {
                table[i] = new ulong[_s];
                Multiply(table[i - 1], table[1], table[i]);
            }

            _one.CopyTo(result, 0);
            var started = false;
            foreach (var octet in exponentBigEndian)
            {
                for (var shift = 4; shift >= 0; shift -= 4)
                {
                    var nibble = (octet >> shift) & 0xF;
                    if (started)
                    {
                        Multiply(result, result, result);
                        Multiply(result, result, result);
                        Multiply(result, result, result);
                        Multiply(result, result, result);
                    }

                    if (nibble != 0)
                    {
                        Multiply(result, table[nibble], result);
                        started = true;
                    }
                }
            }
        }

        public void Square(ulong[] x) => Multiply(x, x, x);

        public bool IsOne(ulong[] x) => x.AsSpan().SequenceEqual(_one);

        public bool IsMinusOne(ulong[] x) => x.AsSpan().SequenceEqual(_minusOne);

        /// <summary>Converts back from Montgomery form.</summary>
        public BigInteger FromMontgomery(ulong[] x)
        {
            var plain = new ulong[_s];
            var unit = new ulong[_s];
            unit[0] = 1;
            Multiply(x, unit, plain);
            return FromLimbs(plain);
        }

        /// <summary>result = a · b · R⁻¹ mod n (result may alias a or b).</summary>
        public void Multiply(ulong[] a, ulong[] b, ulong[] result)
        {
            unchecked
            {
                var s = _s;
                var t = _t;
                var n = _n;
                Array.Clear(t);
                for (var i = 0; i < s; i++)
                {
                    ulong carry = 0;
                    var bi = b[i];
                    for (var j = 0; j < s; j++)
                    {
                        var hi = Math.BigMul(a[j], bi, out var lo);
                        lo += t[j];
                        hi += lo < t[j] ? 1UL : 0UL;
                        lo += carry;
                        hi += lo < carry ? 1UL : 0UL;
                        t[j] = lo;
                        carry = hi;
                    }

                    var sum = t[s] + carry;
                    t[s + 1] = sum < carry ? 1UL : 0UL;
                    t[s] = sum;

                    var m = t[0] * _n0Inv;
                    var h = Math.BigMul(m, n[0], out var l);
                    l += t[0];
                    carry = h + (l < t[0] ? 1UL : 0UL);
                    for (var j = 1; j < s; j++)
                    {
                        var hi = Math.BigMul(m, n[j], out var lo);
                        lo += t[j];
                        hi += lo < t[j] ? 1UL : 0UL;
                        lo += carry;
                        hi += lo < carry ? 1UL : 0UL;
                        t[j - 1] = lo;
                        carry = hi;
                    }

                    sum = t[s] + carry;
                    t[s - 1] = sum;
                    t[s] = t[s + 1] + (sum < carry ? 1UL : 0UL);
                }

                // Conditional final subtraction: t (s + 1 limbs) < 2n.
                if (t[s] != 0 || !LessThan(t, n, s))
                {
                    ulong borrow = 0;
                    for (var j = 0; j < s; j++)
                    {
                        var diff = t[j] - n[j] - borrow;
                        borrow = (t[j] < n[j] || (t[j] == n[j] && borrow != 0)) ? 1UL : 0UL;
                        result[j] = diff;
                    }
                }
                else
                {
                    Array.Copy(t, result, s);
                }
            }
        }

        private static bool LessThan(ulong[] t, ulong[] n, int s)
        {
            for (var j = s - 1; j >= 0; j--)
            {
                if (t[j] != n[j])
                {
                    return t[j] < n[j];
                }
            }

            return false;
        }

        // -n0^-1 mod 2^64 by Newton iteration.
        private static ulong NegInverse(ulong n0)
        {
            unchecked
            {
                ulong inv = 1;
                for (var i = 0; i < 6; i++)
                {
                    inv *= 2 - (n0 * inv);
                }

                return 0 - inv;
            }
        }

        private static ulong[] ToLimbs(BigInteger value, int s)
        {
            var limbs = new ulong[s];
            var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: false);
            for (var i = 0; i < bytes.Length && i < s * 8; i++)
            {
                limbs[i / 8] |= (ulong)bytes[i] << (8 * (i % 8));
            }

            return limbs;
        }

        private static BigInteger FromLimbs(ulong[] limbs)
        {
            var bytes = new byte[limbs.Length * 8];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = unchecked((byte)(limbs[i / 8] >> (8 * (i % 8))));
            }

            return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
        }
    }
}
