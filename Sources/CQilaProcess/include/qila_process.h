#ifndef QILA_PROCESS_H
#define QILA_PROCESS_H

/// How many malloc arenas the qila process was started with (see qila_process.c); 0 when the
/// setting was left to glibc.
int qila_process_malloc_arenas(void);

#endif
