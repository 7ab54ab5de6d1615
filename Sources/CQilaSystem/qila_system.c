#define _GNU_SOURCE
#include "qila_system.h"


#include <errno.h>
#include <linux/sock_diag.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

enum { qila_most = 256 };

int64_t qila_socket_drops(int fd) {
    uint32_t info[SK_MEMINFO_VARS];
    socklen_t length = sizeof info;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &length) != 0 || length < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
        return -1;
    }
    return info[SK_MEMINFO_DROPS];
}

int qila_udp_receive(int fd, uint8_t *buffers, size_t size, unsigned count, size_t *lengths,
                     struct sockaddr_storage *senders, int *closed) {
    struct mmsghdr messages[qila_most];
    struct iovec vectors[qila_most];
    if (count > qila_most) count = qila_most;
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = buffers + (size_t)i * size;
        vectors[i].iov_len = size;
        memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
        messages[i].msg_hdr.msg_name = &senders[i];
        messages[i].msg_hdr.msg_namelen = sizeof senders[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int received;
    do {
        received = recvmmsg(fd, messages, count, MSG_WAITFORONE, NULL);
    } while (received < 0 && errno == EINTR);
    if (received <= 0) return received;
    for (int i = 0; i < received; i++) {
        // On a socket shut down for reading, the kernel answers at once with no datagram, which
        // recvmmsg reports as an entry without a sender: everything queued before it was taken.
        if (messages[i].msg_hdr.msg_namelen == 0) {
            *closed = 1;
            return i;
        }
        lengths[i] = messages[i].msg_len;
    }
    return received;
}

void qila_keep_heap_memory(int mmap_threshold, int trim_threshold) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

void qila_name_thread(const char *name) {
    char kept[16];
    strncpy(kept, name, sizeof kept - 1);
    kept[sizeof kept - 1] = 0;
    (void)pthread_setname_np(pthread_self(), kept);
}
