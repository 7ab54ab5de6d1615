#ifndef QILA_SYSTEM_H
#define QILA_SYSTEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

/// The kernel's count of datagrams dropped on this socket since it was opened (its receive queue
/// was full, or memory ran short), read with SO_MEMINFO; -1 when the kernel cannot tell.
int64_t qila_socket_drops(int fd);

/// Receives up to `count` datagrams in one call (recvmmsg with MSG_WAITFORONE: waits for the
/// first, then takes only what is already queued). Datagram i goes to `buffers + i * size`, its
/// length to `lengths[i]` and its sender to `senders[i]`. `*closed` is set to 1 once the socket
/// was shut down for reading (shutdown(SHUT_RD), the stop signal) and every datagram queued
/// before it has been taken.
/// Returns how many datagrams arrived (0 when closed), or -1 with errno.
int qila_udp_receive(int fd, uint8_t *buffers, size_t size, unsigned count, size_t *lengths,
                     struct sockaddr_storage *senders, int *closed);

/// Keeps freed memory in the heap for reuse instead of handing it back to the kernel: requests
/// up to `mmap_threshold` bytes come from the heap (not fresh mappings) and up to
/// `trim_threshold` bytes of free heap are kept (glibc's M_MMAP_THRESHOLD, M_TRIM_THRESHOLD).
void qila_keep_heap_memory(int mmap_threshold, int trim_threshold);

/// Names the calling thread (at most 15 bytes are kept), as `top -H` and /proc show it.
void qila_name_thread(const char *name);

/// Asks the processor to start loading the cache line at `address` (a hint; never faults).
static inline void qila_prefetch(const void *address) { __builtin_prefetch(address); }

/// Writes the 64 bytes at `source` to `destination` (64-byte aligned) past the caches: the line
/// goes to memory without being read first. For scattering whole lines in an order the caches
/// cannot follow, when they are read again only after the scatter; `qila_stream_fence` after the
/// last.
static inline void qila_stream_line(void *destination, const void *source) {
#if defined(__x86_64__) && defined(__SSE2__)
    __m128i *to = (__m128i *)destination;
    const __m128i *from = (const __m128i *)source;
    _mm_stream_si128(to, _mm_loadu_si128(from));
    _mm_stream_si128(to + 1, _mm_loadu_si128(from + 1));
    _mm_stream_si128(to + 2, _mm_loadu_si128(from + 2));
    _mm_stream_si128(to + 3, _mm_loadu_si128(from + 3));
#else
    __builtin_memcpy(destination, source, 64);
#endif
}

/// Orders the streamed lines before whatever the thread stores next.
static inline void qila_stream_fence(void) {
#if defined(__x86_64__) && defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
