// Linked into the qila executable only: settings the process needs before its first thread.
#include "qila_process.h"

#include <malloc.h>

// One malloc arena for the whole process, set before main (and so before any thread exists).
// glibc gives each thread its own arena made of 64 MiB heaps and unmaps a heap as soon as it is
// wholly free: the flow writer's hundred megabytes of per-block arrays were then mapped and
// zeroed afresh at every block, about a fifth of the collector's time on a virtual machine
// (docs/decisions/0014). Small allocations still come from each thread's own cache (tcache).
__attribute__((constructor)) static void qila_one_arena(void) {
    (void)mallopt(M_ARENA_MAX, 1);
}
