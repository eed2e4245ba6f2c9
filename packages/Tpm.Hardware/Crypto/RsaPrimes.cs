using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Deterministic RSA prime generation: every random octet comes from the caller's
/// <see cref="IRandomSource"/>, so a seeded source (primary keys) always yields the same primes.
/// A random odd start with its two top bits set (so p·q has exactly the requested size, FIPS 186-5
/// A.1.3), an incremental search over a sieve of the primes below 2^17, a strong probable-prime
/// test to base 2, then Miller–Rabin with random bases (FIPS 186-5 B.3, round counts from Table B.1).
/// </summary>
/// <remarks>
/// Almost all of the time goes into the base-2 tests of the ~70 composites a 2048-bit key meets:
/// they use no randomness (only a candidate that passes draws Miller–Rabin bases), square with a
/// dedicated Montgomery squaring on 64-bit limbs and multiply by 2 with a shift. Candidates and the
/// arithmetic stay in reused limb arrays; System.Numerics.BigInteger only carries the result.
/// </remarks>
internal static class RsaPrimes
{
    private const int SieveWindow = 4096;
    private const int SmallPrimeLimit = 1 << 17;

    private static readonly uint[] SmallPrimes = BuildSmallPrimes();

    /// <summary>floor(2^64 / p) for each small prime: residues by multiplication instead of division.</summary>
    private static readonly ulong[] SmallPrimeReciprocals = [.. SmallPrimes.Select(p => ulong.MaxValue / p)];

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

            // FIPS 186-5 A.1.3 step 5.4: |p - q| > 2^(nlen/2 - 100).
            if (BigInteger.Abs(p - q) > BigInteger.One << (primeBits - 100))
            {
                return (p, q);
            }
        }
    }

    /// <summary>A probable prime of exactly <paramref name="bits"/> bits (a multiple of 8), top two bits set, with gcd(p - 1, e) = 1.</summary>
    public static BigInteger GeneratePrime(int bits, uint exponent, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var limbCount = (bits + 63) / 64;
        var buffer = new byte[bits / 8];
        var start = new ulong[limbCount];
        var candidate = new ulong[limbCount];
        var composite = new bool[SieveWindow];
        var rounds = MillerRabinRounds(bits);
        var mont = new Montgomery(limbCount);
        try
        {
            while (true)
            {
                random.Fill(buffer);
                buffer[0] |= 0xC0;
                buffer[^1] |= 0x01;
                FromBigEndian(buffer, start);

                Array.Clear(composite);
                for (var i = 0; i < SmallPrimes.Length; i++)
                {
                    // Mark start + 2k divisible by prime: 2k ≡ -r (mod prime).
                    var prime = SmallPrimes[i];
                    var r = Residue(start, prime, SmallPrimeReciprocals[i]);
                    var k = r == 0 ? 0 : ((prime - r) % 2 == 0 ? (prime - r) / 2 : ((2 * prime) - r) / 2);
                    for (var j = k; j < SieveWindow; j += prime)
                    {
                        composite[j] = true;
                    }
                }

                var startModE = exponent == 0 ? 0UL : Residue(start, exponent, ulong.MaxValue / exponent);
                for (var k = 0; k < SieveWindow; k++)
                {
                    if (composite[k])
                    {
                        continue;
                    }

                    // gcd(candidate - 1, e) = 1, from the residues alone.
                    if (exponent != 0 && Gcd((uint)((startModE + (2UL * (uint)k) + exponent - 1) % exponent), exponent) != 1)
                    {
                        continue;
                    }

                    if (!AddSmall(start, 2UL * (uint)k, candidate) || BitLength(candidate) != bits)
                    {
                        break;
                    }

                    mont.SetModulus(candidate);
                    if (mont.IsStrongProbablePrimeBase2() && MillerRabin(mont, bits, rounds, random))
                    {
                        return ToBigInteger(candidate);
                    }
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
            Array.Clear(start);
            Array.Clear(candidate);
            mont.Clear();
        }
    }

    /// <summary>Trial division by the small primes, a strong test to base 2, then Miller–Rabin with <paramref name="rounds"/> random bases from <paramref name="random"/>.</summary>
    public static bool IsProbablePrime(BigInteger w, int rounds, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (w < 2)
        {
            return false;
        }

        if (w < SmallPrimeLimit)
        {
            return w == 2 || Array.BinarySearch(SmallPrimes, (uint)w) >= 0;
        }

        if (w.IsEven)
        {
            return false;
        }

        var bits = (int)w.GetBitLength();
        var mont = new Montgomery((bits + 63) / 64);
        mont.SetModulus(ToLimbs(w, (bits + 63) / 64));
        return mont.IsStrongProbablePrimeBase2() && MillerRabin(mont, bits, rounds, random);
    }

    /// <summary>FIPS 186-5 Table B.1 (error probability 2^-100) rounds for a prime of <paramref name="bits"/> bits.</summary>
    internal static int MillerRabinRounds(int bits) => bits switch
    {
        >= 1536 => 4,
        >= 1024 => 5,
        >= 512 => 7,
        _ => 40,
    };

    /// <summary>Miller–Rabin with bases b uniform in [2, w - 2] by rejection sampling (FIPS 186-5 B.3.1 step 4), w the modulus of <paramref name="mont"/>.</summary>
    private static bool MillerRabin(Montgomery mont, int bits, int rounds, IRandomSource random)
    {
        var octets = (bits + 7) / 8;
        var baseBytes = new byte[octets];
        var b = mont.NewValue();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                do
                {
                    random.Fill(baseBytes);
                    baseBytes[0] &= (byte)(0xFF >> ((octets * 8) - bits));
                    FromBigEndian(baseBytes, b);
                }
                while (!mont.IsUsableBase(b));

                if (!mont.IsStrongProbablePrime(b))
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(baseBytes);
        }
    }

    /// <summary><paramref name="limbs"/> mod <paramref name="divisor"/> (a 32-bit value), 32 bits at a time.</summary>
    private static uint Residue(ulong[] limbs, uint divisor, ulong reciprocal)
    {
        ulong r = 0;
        for (var i = limbs.Length - 1; i >= 0; i--)
        {
            r = Reduce((r << 32) | (limbs[i] >> 32), divisor, reciprocal);
            r = Reduce((r << 32) | (limbs[i] & 0xFFFFFFFF), divisor, reciprocal);
        }

        return (uint)r;
    }

    /// <summary>x mod d for x &lt; 2^64: q = ⌊x · ⌊2^64/d⌋ / 2^64⌋ is ⌊x/d⌋ or one less, so one correction (Barrett).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Reduce(ulong x, uint divisor, ulong reciprocal)
    {
        unchecked
        {
            var r = x - ((ulong)(Math.BigMul(x, reciprocal) >> 64) * divisor);
            return r >= divisor ? r - divisor : r;
        }
    }

    private static uint Gcd(uint a, uint b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>result = a + value; false on a carry out of the top limb.</summary>
    private static bool AddSmall(ulong[] a, ulong value, ulong[] result)
    {
        unchecked
        {
            var carry = value;
            for (var i = 0; i < a.Length; i++)
            {
                var sum = a[i] + carry;
                carry = sum < carry ? 1UL : 0UL;
                result[i] = sum;
            }

            return carry == 0;
        }
    }

    private static int BitLength(ReadOnlySpan<ulong> limbs)
    {
        for (var i = limbs.Length - 1; i >= 0; i--)
        {
            if (limbs[i] != 0)
            {
                return (64 * i) + 64 - BitOperations.LeadingZeroCount(limbs[i]);
            }
        }

        return 0;
    }

    /// <summary>Big-endian octets into little-endian 64-bit limbs (the octets must fit).</summary>
    private static void FromBigEndian(ReadOnlySpan<byte> bytes, ulong[] limbs)
    {
        Array.Clear(limbs);
        for (var i = 0; i < bytes.Length; i++)
        {
            var bit = 8 * (bytes.Length - 1 - i);
            limbs[bit / 64] |= (ulong)bytes[i] << (bit % 64);
        }
    }

    private static ulong[] ToLimbs(BigInteger value, int count)
    {
        Span<byte> bytes = stackalloc byte[count * 8];
        bytes.Clear();
        value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        var limbs = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            limbs[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(8 * i)..]);
        }

        return limbs;
    }

    private static BigInteger ToBigInteger(ReadOnlySpan<ulong> limbs)
    {
        Span<byte> bytes = stackalloc byte[limbs.Length * 8];
        for (var i = 0; i < limbs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[(8 * i)..], limbs[i]);
        }

        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
        bytes.Clear();
        return value;
    }

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
            for (var j = (long)i * i; j < SmallPrimeLimit; j += 2 * i)
            {
                sieve[j] = true;
            }
        }

        return [.. primes];
    }

    /// <summary>
    /// Montgomery arithmetic modulo an odd n of a fixed number of 64-bit limbs (R = 2^(64·limbs)),
    /// reusable for one candidate after another: schoolbook products or a dedicated squaring, then
    /// a separate Montgomery reduction. Values are little-endian limb arrays below n.
    /// </summary>
    internal sealed class Montgomery
    {
        private readonly int _s;
        private readonly ulong[] _n;
        private readonly ulong[] _nMinus1;
        private readonly ulong[] _one;
        private readonly ulong[] _minusOne;
        private readonly ulong[] _r2;
        private readonly ulong[] _x;
        private readonly ulong[] _t;
        private ulong _n0Inv;
        private int _bits;
        private bool _r2Valid;

        public Montgomery(int limbs)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limbs);
            _s = limbs;
            _n = new ulong[limbs];
            _nMinus1 = new ulong[limbs];
            _one = new ulong[limbs];
            _minusOne = new ulong[limbs];
            _r2 = new ulong[limbs];
            _x = new ulong[limbs];
            _t = new ulong[(2 * limbs) + 1];
        }

        /// <summary>Arithmetic modulo <paramref name="modulus"/> (odd, positive).</summary>
        public Montgomery(BigInteger modulus)
            : this((int)((modulus.GetBitLength() + 63) / 64))
        {
            if (modulus.IsEven || modulus.Sign <= 0)
            {
                throw new ArgumentException("Montgomery arithmetic needs an odd positive modulus.", nameof(modulus));
            }

            SetModulus(ToLimbs(modulus, _s));
        }

        /// <summary>Switches to the odd modulus <paramref name="modulus"/> (exactly the limb count of this instance).</summary>
        public void SetModulus(ReadOnlySpan<ulong> modulus)
        {
            modulus.CopyTo(_n);
            modulus.CopyTo(_nMinus1);
            _nMinus1[0] &= ~1UL;
            _n0Inv = NegInverse(_n[0]);
            _bits = BitLength(_n);

            // R mod n: 2^(bits - 1) is below n; double it up to 2^(64s).
            Array.Clear(_one);
            _one[(_bits - 1) / 64] = 1UL << ((_bits - 1) % 64);
            for (var i = _bits - 1; i < 64 * _s; i++)
            {
                Double(_one);
            }

            Subtract(_n, _one, _minusOne);
            _r2Valid = false;
        }

        public ulong[] NewValue() => new ulong[_s];

        /// <summary>True when 1 &lt; <paramref name="b"/> &lt; n - 1 (a Miller–Rabin base).</summary>
        public bool IsUsableBase(ulong[] b)
        {
            var aboveOne = b[0] > 1;
            for (var i = 1; i < _s && !aboveOne; i++)
            {
                aboveOne = b[i] != 0;
            }

            return aboveOne && LessThan(b, _nMinus1);
        }

        /// <summary>The strong probable-prime test to base 2 (FIPS 186-5 B.3.1 with b = 2): no randomness, doublings instead of multiplications.</summary>
        public bool IsStrongProbablePrimeBase2()
        {
            // n - 1 = 2^a · m; m's bits are those of n above a (n is odd, so n - 1 differs only in bit 0).
            var a = TrailingZerosOfNMinus1();
            var x = _x;
            _one.AsSpan().CopyTo(x);
            for (var bit = _bits - 1; bit >= a; bit--)
            {
                Square(x);
                if (IsBitOfNMinus1(bit))
                {
                    Double(x);
                }
            }

            return FinishStrongTest(x, a);
        }

        /// <summary>The strong probable-prime test to base <paramref name="b"/> (1 &lt; b &lt; n - 1, plain form).</summary>
        public bool IsStrongProbablePrime(ulong[] b)
        {
            var a = TrailingZerosOfNMinus1();
            var x = _x;
            ModPow(b, a, x);
            return FinishStrongTest(x, a);
        }

        /// <summary>result = Mont(b^e) (the Montgomery form of b^e mod n) for a plain b and a big-endian exponent.</summary>
        public void ModPow(BigInteger b, byte[] exponentBigEndian, ulong[] result)
        {
            ArgumentNullException.ThrowIfNull(exponentBigEndian);
            var plain = ToLimbs(b, _s);
            var table = Table(plain);
            _one.AsSpan().CopyTo(result);
            var started = false;
            foreach (var octet in exponentBigEndian)
            {
                for (var shift = 4; shift >= 0; shift -= 4)
                {
                    var nibble = (octet >> shift) & 0xF;
                    if (started)
                    {
                        Square(result);
                        Square(result);
                        Square(result);
                        Square(result);
                    }

                    if (nibble != 0)
                    {
                        Multiply(result, table[nibble], result);
                        started = true;
                    }
                }
            }
        }

        /// <summary>Converts back from Montgomery form.</summary>
        public BigInteger FromMontgomery(ulong[] x)
        {
            var unit = new ulong[_s];
            unit[0] = 1;
            var plain = new ulong[_s];
            Multiply(x, unit, plain);
            return ToBigInteger(plain);
        }

        /// <summary>Zeroes the modulus and intermediate values (candidates are key material).</summary>
        public void Clear()
        {
            Array.Clear(_n);
            Array.Clear(_nMinus1);
            Array.Clear(_x);
            Array.Clear(_t);
            Array.Clear(_r2);
        }

        /// <summary>x = x² · R⁻¹ mod n: the cross products once, doubled, plus the squares, then reduced.</summary>
        public void Square(ulong[] x)
        {
            unchecked
            {
                var s = _s;
                var t = _t;
                Array.Clear(t);
                ref var tr = ref t[0];
                ref var xr = ref x[0];
                for (var i = 0; i < s - 1; i++)
                {
                    ulong carry = 0;
                    var xi = Unsafe.Add(ref xr, i);
                    for (var j = i + 1; j < s; j++)
                    {
                        ref var slot = ref Unsafe.Add(ref tr, i + j);
                        var product = Math.BigMul(xi, Unsafe.Add(ref xr, j)) + slot + carry;
                        slot = (ulong)product;
                        carry = (ulong)(product >> 64);
                    }

                    Unsafe.Add(ref tr, i + s) = carry;
                }

                ulong top = 0;
                for (var k = 0; k < 2 * s; k++)
                {
                    ref var slot = ref Unsafe.Add(ref tr, k);
                    var v = slot;
                    slot = (v << 1) | top;
                    top = v >> 63;
                }

                ulong c = 0;
                for (var i = 0; i < s; i++)
                {
                    var xi = Unsafe.Add(ref xr, i);
                    var square = Math.BigMul(xi, xi);
                    ref var low = ref Unsafe.Add(ref tr, 2 * i);
                    ref var high = ref Unsafe.Add(ref tr, (2 * i) + 1);
                    var lowSum = (UInt128)low + (ulong)square + c;
                    low = (ulong)lowSum;
                    var highSum = (UInt128)high + (ulong)(square >> 64) + (ulong)(lowSum >> 64);
                    high = (ulong)highSum;
                    c = (ulong)(highSum >> 64);
                }

                Reduce(x);
            }
        }

        /// <summary>result = a · b · R⁻¹ mod n (result may alias a or b).</summary>
        public void Multiply(ulong[] a, ulong[] b, ulong[] result)
        {
            unchecked
            {
                var s = _s;
                var t = _t;
                Array.Clear(t);
                ref var tr = ref t[0];
                ref var ar = ref a[0];
                ref var br = ref b[0];
                for (var i = 0; i < s; i++)
                {
                    ulong carry = 0;
                    var ai = Unsafe.Add(ref ar, i);
                    for (var j = 0; j < s; j++)
                    {
                        ref var slot = ref Unsafe.Add(ref tr, i + j);
                        var product = Math.BigMul(ai, Unsafe.Add(ref br, j)) + slot + carry;
                        slot = (ulong)product;
                        carry = (ulong)(product >> 64);
                    }

                    Unsafe.Add(ref tr, i + s) = carry;
                }

                Reduce(result);
            }
        }

        /// <summary>x = 2x mod n (in or out of Montgomery form alike).</summary>
        private void Double(ulong[] x)
        {
            ulong carry = 0;
            for (var i = 0; i < _s; i++)
            {
                var v = x[i];
                x[i] = (v << 1) | carry;
                carry = v >> 63;
            }

            if (carry != 0 || !LessThan(x, _n))
            {
                Subtract(x, _n, x);
            }
        }

        /// <summary>result = t · R⁻¹ mod n for the 2s-limb product in the scratch area (separated operand scanning).</summary>
        private void Reduce(ulong[] result)
        {
            unchecked
            {
                var s = _s;
                ref var tr = ref _t[0];
                ref var nr = ref _n[0];
                ulong extra = 0;
                for (var i = 0; i < s; i++)
                {
                    var m = Unsafe.Add(ref tr, i) * _n0Inv;
                    ulong carry = 0;
                    for (var j = 0; j < s; j++)
                    {
                        ref var slot = ref Unsafe.Add(ref tr, i + j);
                        var product = Math.BigMul(m, Unsafe.Add(ref nr, j)) + slot + carry;
                        slot = (ulong)product;
                        carry = (ulong)(product >> 64);
                    }

                    // The row's carry and the one left over from the row before go into t[i + s].
                    ref var up = ref Unsafe.Add(ref tr, i + s);
                    var sum = (UInt128)up + carry + extra;
                    up = (ulong)sum;
                    extra = (ulong)(sum >> 64);
                }

                // t[s .. 2s) + extra · R is below 2n: subtract n at most once.
                var upper = _t.AsSpan(s, s);
                if (extra != 0 || !LessThan(upper, _n))
                {
                    Subtract(upper, _n, result);
                }
                else
                {
                    upper.CopyTo(result);
                }
            }
        }

        /// <summary>result = Mont(b^m), m = (n - 1) / 2^a, with a fixed 4-bit window.</summary>
        private void ModPow(ulong[] b, int a, ulong[] result)
        {
            var table = Table(b);
            _one.AsSpan().CopyTo(result);
            var mBits = _bits - a;
            var top = ((mBits + 3) / 4 * 4) - 1;
            for (var bit = top; bit >= 3; bit -= 4)
            {
                if (bit != top)
                {
                    Square(result);
                    Square(result);
                    Square(result);
                    Square(result);
                }

                var nibble = 0;
                for (var j = 0; j < 4; j++)
                {
                    var mBit = bit - j;
                    nibble = (nibble << 1) | (mBit < mBits && IsBitOfNMinus1(mBit + a) ? 1 : 0);
                }

                if (nibble != 0)
                {
                    Multiply(result, table[nibble], result);
                }
            }
        }

        /// <summary>table[i] = Mont(b^i), i &lt; 16, for a plain b below n.</summary>
        private ulong[][] Table(ulong[] b)
        {
            if (!_r2Valid)
            {
                // R² mod n: R mod n doubled 64s times.
                _one.AsSpan().CopyTo(_r2);
                for (var i = 0; i < 64 * _s; i++)
                {
                    Double(_r2);
                }

                _r2Valid = true;
            }

            var table = new ulong[16][];
            table[0] = (ulong[])_one.Clone();
            table[1] = new ulong[_s];
            Multiply(b, _r2, table[1]);
            for (var i = 2; i < 16; i++)
            {
                table[i] = new ulong[_s];
                Multiply(table[i - 1], table[1], table[i]);
            }

            return table;
        }

        /// <summary>FIPS 186-5 B.3.1 steps 4.5–4.7: x = b^m; probably prime if x = ±1 or a squaring reaches -1 first.</summary>
        private bool FinishStrongTest(ulong[] x, int a)
        {
            if (x.AsSpan().SequenceEqual(_one) || x.AsSpan().SequenceEqual(_minusOne))
            {
                return true;
            }

            for (var j = 1; j < a; j++)
            {
                Square(x);
                if (x.AsSpan().SequenceEqual(_minusOne))
                {
                    return true;
                }

                if (x.AsSpan().SequenceEqual(_one))
                {
                    return false;
                }
            }

            return false;
        }

        private bool IsBitOfNMinus1(int bit) => bit != 0 && ((_n[bit / 64] >> (bit % 64)) & 1) != 0;

        private int TrailingZerosOfNMinus1()
        {
            var i = 0;
            var limb = _n[0] & ~1UL;
            while (limb == 0)
            {
                i++;
                limb = _n[i];
            }

            return (64 * i) + BitOperations.TrailingZeroCount(limb);
        }

        private static bool LessThan(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> n)
        {
            for (var j = n.Length - 1; j >= 0; j--)
            {
                if (a[j] != n[j])
                {
                    return a[j] < n[j];
                }
            }

            return false;
        }

        /// <summary>result = a - b (no borrow out expected).</summary>
        private static void Subtract(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> result)
        {
            unchecked
            {
                ulong borrow = 0;
                for (var j = 0; j < b.Length; j++)
                {
                    var aj = a[j];
                    var bj = b[j];
                    result[j] = aj - bj - borrow;
                    borrow = (aj < bj || (aj == bj && borrow != 0)) ? 1UL : 0UL;
                }
            }
        }

        /// <summary>-n0⁻¹ mod 2^64 by Newton iteration.</summary>
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
    }
}
