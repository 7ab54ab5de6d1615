#include "qila_frames.h"
#include <string.h>

// One frame is coded in three passes over at most 256 values, each a loop without branches that
// the compiler turns into vector code: the numbers to store (differences, or values above the
// frame's least) and their lengths; the exponential-Golomb code and code length of every number
// (when the frame is coded that way); and a scalar pass that appends the codes to the bits.
// The choice between packing and Golomb codes, and of the order, is IntegerColumn's, value for
// value, so the bytes are the same as the Swift coder's.

#define INLINE static inline __attribute__((always_inline))

INLINE void store_little(uint8_t *at, uint64_t word) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    memcpy(at, &word, 8);
}

INLINE size_t put_varint(uint8_t *out, uint64_t value) {
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)value | 0x80;
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

/// Number of significant bits: 0 for 0, 64 for values with the top bit set.
INLINE unsigned bit_length(uint64_t value) { return 64 - (unsigned)(value == 0 ? 64 : __builtin_clzll(value)); }

INLINE uint64_t low_mask(unsigned bits) { return bits >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1; }

/// Bits least significant first; every put stores the whole accumulator and moves on by the
/// bytes it completed, so the memory must extend 8 bytes past the last byte written.
typedef struct {
    uint8_t *base;
    size_t position;
    uint64_t accumulator;
    unsigned filled;  // bits in the accumulator beyond `position`, fewer than 8 between puts
} bits_t;

/// Adds `count` ≤ 56 bits, already masked to that width.
INLINE void put(bits_t *w, uint64_t bits, unsigned count) {
    w->accumulator |= bits << w->filled;
    w->filled += count;
    store_little(w->base + w->position, w->accumulator);
    unsigned completed = w->filled >> 3;
    w->position += completed;
    w->accumulator >>= completed << 3;
    w->filled &= 7;
}

/// Adds the low `count` ≤ 64 bits of `value`.
INLINE void put_wide(bits_t *w, uint64_t value, unsigned count) {
    if (count <= 56) {
        put(w, value & low_mask(count), count);
    } else {
        put(w, value & 0xFFFFFFFFu, 32);
        put(w, (value >> 32) & low_mask(count - 32), count - 32);
    }
}

/// The exponential-Golomb code of order k of `value`, whose quotient `(value >> k) + 1` has
/// `length` significant bits, when the code's 2·length−1+k bits fit 56: the quotient's leading one
/// at bit length−1, its other bits above it, then the value's low k bits. Shifts are taken modulo
/// 64, so that the vector loop has no branch; they are out of range only for longer codes, which
/// the callers write otherwise.
INLINE uint64_t short_golomb_code(uint64_t value, uint64_t quotient, unsigned length, unsigned k) {
    uint64_t top = (uint64_t)1 << ((length - 1) & 63);
    uint64_t code = top | (quotient ^ top) << (length & 63);
    return code | (value & low_mask(k)) << ((2 * length - 1) & 63);
}

/// One exponential-Golomb code of order k, for any value (the long forms included).
INLINE void put_golomb(bits_t *w, uint64_t value, unsigned k) {
    uint64_t quotient = (value >> k) + 1;
    if (quotient == 0) {  // only UInt64.max with k = 0: the quotient is 2^64
        put_wide(w, 0, 64);
        put_wide(w, 1, 1);
        put_wide(w, 0, 64);
        return;
    }
    unsigned length = bit_length(quotient);
    unsigned total = 2 * length - 1 + k;
    if (total <= 56) {
        put(w, short_golomb_code(value, quotient, length, k), total);
    } else {
        put_wide(w, (uint64_t)1 << (length - 1), length);
        put_wide(w, quotient, length - 1);
        put_wide(w, value, k);
    }
}

INLINE size_t finish(bits_t *w) { return w->position + (w->filled > 0 ? 1 : 0); }

INLINE size_t code_frame(const uint64_t *values, size_t count, int sorted, uint8_t *out) {
    uint64_t numbers[QILA_FRAME_LENGTH];
    uint8_t lengths[QILA_FRAME_LENGTH];
    uint64_t base;
    size_t stored;
    if (sorted) {
        base = values[0];
        stored = count - 1;
        for (size_t i = 0; i < stored; i++) numbers[i] = values[i + 1] - values[i];
    } else {
        uint64_t least = values[0], highest = values[0];
        for (size_t i = 1; i < count; i++) {
            least = values[i] < least ? values[i] : least;
            highest = values[i] > highest ? values[i] : highest;
        }
        base = least;
        stored = count;
        if (highest == least) {
            // One value throughout: a packed frame of width 0, no bits.
            out[0] = 0;
            out[1] = 0;
            return 2 + put_varint(out + 2, base);
        }
        for (size_t i = 0; i < stored; i++) numbers[i] = values[i] - least;
    }
    unsigned widest = 0;
    for (size_t i = 0; i < stored; i++) {
        unsigned length = bit_length(numbers[i]);
        lengths[i] = (uint8_t)length;
        widest = length > widest ? length : widest;
    }
    // Four histograms, so that runs of equal lengths do not wait on one counter.
    uint32_t histogram[4][65] = {{0}};
    size_t i = 0;
    for (; i + 4 <= stored; i += 4) {
        histogram[0][lengths[i]]++;
        histogram[1][lengths[i + 1]]++;
        histogram[2][lengths[i + 2]]++;
        histogram[3][lengths[i + 3]]++;
    }
    for (; i < stored; i++) histogram[0][lengths[i]]++;
    long counts[65];
    for (unsigned length = 0; length <= widest; length++) {
        counts[length] = (long)histogram[0][length] + histogram[1][length] + histogram[2][length] + histogram[3][length];
    }
    // Golomb cost of order k: values of length ≤ k take k+1 bits, of length k+1 take k+3,
    // longer ones 2·length−k−1 (about). Running sums price every order in one pass.
    long best_cost = (long)widest * (long)stored;
    int best_order = -1;
    if (stored > 0 && widest > 1) {
        long longer = 0, longer_bits = 0;
        for (unsigned length = 2; length <= widest; length++) {
            longer += counts[length];
            longer_bits += counts[length] * (long)length;
        }
        long shorter = counts[0];
        for (unsigned order = 0; order < widest; order++) {
            long at_next = counts[order + 1];
            long cost = shorter * (long)(order + 1) + at_next * (long)(order + 3) + 2 * longer_bits - (long)(order + 1) * longer;
            if (cost < best_cost) {
                best_cost = cost;
                best_order = (int)order;
            }
            shorter += at_next;
            if (order + 2 <= widest) {
                longer -= counts[order + 2];
                longer_bits -= counts[order + 2] * (long)(order + 2);
            }
        }
    }
    out[0] = best_order < 0 ? 0 : 1;
    out[1] = (uint8_t)(best_order < 0 ? widest : (unsigned)best_order);
    size_t header = 2 + put_varint(out + 2, base);
    bits_t w = {out + header, 0, 0, 0};
    if (best_order < 0) {
        if (widest > 56) {
            for (size_t j = 0; j < stored; j++) put_wide(&w, numbers[j], widest);
        } else if (widest > 0) {
            for (size_t j = 0; j < stored; j++) put(&w, numbers[j], widest);
        }
        return header + finish(&w);
    }
    // Every code and its length first (vector code), then the bits in one scalar pass. A code
    // longer than 56 bits, or the one value whose quotient overflows, sends the frame to the
    // general path.
    unsigned k = (unsigned)best_order;
    uint64_t codes[QILA_FRAME_LENGTH];
    uint8_t totals[QILA_FRAME_LENGTH];
    unsigned long_codes = 0;
    for (size_t j = 0; j < stored; j++) {
        uint64_t quotient = (numbers[j] >> k) + 1;
        unsigned length = bit_length(quotient);
        unsigned total = 2 * length - 1 + k;
        codes[j] = short_golomb_code(numbers[j], quotient, length, k);
        totals[j] = (uint8_t)total;
        long_codes |= (unsigned)(total > 56) | (unsigned)(quotient == 0);
    }
    if (long_codes) {
        for (size_t j = 0; j < stored; j++) put_golomb(&w, numbers[j], k);
    } else {
        for (size_t j = 0; j < stored; j++) put(&w, codes[j], totals[j]);
    }
    return header + finish(&w);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512cd,avx512vl,avx512bw,avx512dq,bmi,bmi2,lzcnt")))
static size_t code_frame_avx512(const uint64_t *values, size_t count, int sorted, uint8_t *out) {
    return code_frame(values, count, sorted, out);
}

__attribute__((target("avx2,bmi,bmi2,lzcnt")))
static size_t code_frame_avx2(const uint64_t *values, size_t count, int sorted, uint8_t *out) {
    return code_frame(values, count, sorted, out);
}
#endif

size_t qila_code_frame_portable(const uint64_t *values, size_t count, int sorted, uint8_t *out) {
    return code_frame(values, count, sorted, out);
}

typedef size_t (*coder_t)(const uint64_t *, size_t, int, uint8_t *);

static coder_t chosen_coder(const char **name) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("bmi2")) {
        if (name) *name = "avx512";
        return code_frame_avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2")) {
        if (name) *name = "avx2";
        return code_frame_avx2;
    }
#endif
    if (name) *name = "portable";
    return qila_code_frame_portable;
}

static coder_t coder;

size_t qila_code_frame(const uint64_t *values, size_t count, int sorted, uint8_t *out) {
    coder_t chosen = __atomic_load_n(&coder, __ATOMIC_RELAXED);
    if (!chosen) {
        chosen = chosen_coder(NULL);
        __atomic_store_n(&coder, chosen, __ATOMIC_RELAXED);
    }
    return chosen(values, count, sorted, out);
}

const char *qila_frame_coder(void) {
    const char *name = "portable";
    (void)chosen_coder(&name);
    return name;
}
