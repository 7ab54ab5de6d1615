#ifndef QILA_FRAMES_H
#define QILA_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/// Frames of an integer column (QilaFlows' IntegerColumn), coded in C so that the per-value work
/// (differences, lengths, exponential-Golomb codes) runs in vector registers where the processor
/// has them. The format is IntegerColumn's; this only produces the same bytes faster.

/// The most values a frame holds.
#define QILA_FRAME_LENGTH 256

/// Bytes `qila_code_frame` may write for a frame of `count` values, counting the slack its
/// 64-bit stores touch past the last byte.
static inline size_t qila_frame_bound(size_t count) { return 2 + 10 + (count * 66 + 7) / 8 + 16; }

/// Codes one frame of `count` values (1 ≤ count ≤ QILA_FRAME_LENGTH) at `out`, which must have
/// room for `qila_frame_bound(count)` bytes: mode byte (0 packed, 1 exponential-Golomb),
/// parameter byte (width or order), varint base, then the bits, least significant first.
/// `sorted` non-zero: the base is the first value and the others are stored as differences
/// from their predecessor (the values must not decrease). Returns the bytes of the frame.
size_t qila_code_frame(const uint64_t *values, size_t count, int sorted, uint8_t *out);

/// The same, in plain scalar code whatever the processor: what the other coders must match.
size_t qila_code_frame_portable(const uint64_t *values, size_t count, int sorted, uint8_t *out);

/// Which instructions `qila_code_frame` uses here: "avx512", "avx2" or "portable".
const char *qila_frame_coder(void);

#endif
