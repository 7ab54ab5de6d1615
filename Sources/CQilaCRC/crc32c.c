#include "qila_crc32c.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int qila_crc32c_hardware(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t qila_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t length) {
    uint64_t wide = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = _mm_crc32_u64(wide, word);
        bytes += 8;
        length -= 8;
    }
    uint32_t narrow = (uint32_t)wide;
    while (length > 0) {
        narrow = _mm_crc32_u8(narrow, *bytes);
        bytes++;
        length--;
    }
    return narrow;
}
#else
int qila_crc32c_hardware(void) { return 0; }
uint32_t qila_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t length) {
    (void)bytes; (void)length;
    return crc;
}
#endif
