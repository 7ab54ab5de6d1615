#ifndef QILA_CRC32C_H
#define QILA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Whether this processor has the SSE 4.2 CRC32 instruction (x86-64); 0 elsewhere.
int qila_crc32c_hardware(void);

/// CRC-32C of `length` bytes continuing from `crc` (the raw register, not inverted), with the
/// SSE 4.2 instruction. Call only when qila_crc32c_hardware() is 1.
uint32_t qila_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t length);

#endif
