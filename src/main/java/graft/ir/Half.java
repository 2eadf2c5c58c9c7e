package graft.ir;

/** IEEE 754 half precision conversions (Java 17 has none built in). */
public final class Half {
    private Half() {
    }

    public static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant / 1024f / 16384f;
            return sign == 0 ? v : -v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * The nearest half to {@code f}, ties to even (IEEE 754's default, and numpy's
     * {@code astype(float16)}): 65520 and above become infinity, values at or below 2^-25 zero, a
     * NaN keeps the top bits of its payload (a quiet bit when they are all zero).
     */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            int payload = (abs & 0x7fffff) >>> 13;
            return (short) (sign | 0x7c00 | (payload == 0 ? 1 : payload));
        }
        if (abs >= 0x47800000) {
            return (short) (sign | 0x7c00); // 2^16 and above: beyond even the rounding range
        }
        if (abs >= 0x38800000) {
            // normal half: rebias the exponent, keep 10 mantissa bits, round the 13 dropped
            int h = ((abs >>> 23) - 112) << 10 | ((abs & 0x7fffff) >>> 13);
            int rest = abs & 0x1fff;
            if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
                h++; // a carry into the exponent is right, up to 0x7c00 = infinity
            }
            return (short) (sign | h);
        }
        if (abs <= 0x33000000) {
            return (short) sign; // at most half the smallest subnormal: ties to even zero
        }
        // subnormal half: units of 2^-24
        int e = abs >>> 23;
        int mant = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - e;
        int h = mant >>> shift;
        int rest = mant & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rest > half || (rest == half && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }
}
