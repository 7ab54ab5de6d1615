#ifndef QILA_PROCESS_H
#define QILA_PROCESS_H

// Nothing to call: qila_process.c only sets what the qila process needs before its first thread.

#endif
