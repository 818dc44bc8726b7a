/*
 * vm_err.h - error codes and located diagnostics shared by models/ and sim/.
 *
 * Functions return 0 or a negative VM_E* code.  The codes come from one
 * X-macro table (libuv's UV_ERRNO_MAP idea) that also generates
 * vm_err_name() and vm_strerror().  Where a caller wants a message, the
 * callee takes a `struct vm_diag *` as its last parameter (QEMU's Error **
 * rule) and fills it where the problem is found; vm_diag_set() returns the
 * code so `return vm_diag_set(d, VM_EINVAL, "...")` reads naturally.
 * Models never print: the message travels up to sim/sim_cli.c.
 */
#ifndef VM_ERR_H
#define VM_ERR_H

#include <stddef.h>

#define VM_ERRNO_MAP(X)                                              \
    X(EINVAL,  1, "invalid argument")                                \
    X(ENOMEM,  2, "out of memory")                                   \
    X(EIO,     3, "input/output error")                              \
    X(ENOENT,  4, "no such file or entry")                           \
    X(EAGAIN,  5, "resource temporarily unavailable, wait and retry")\
    X(ERANGE,  6, "value out of range")                              \
    X(EPARSE,  7, "malformed input")                                 \
    X(EBUSY,   8, "resource busy")                                   \
    X(ENOSPC,  9, "no space left")                                   \
    X(ECORRUPT, 10, "corrupt data (checksum or format mismatch)")    \
    X(ENOTSUP, 11, "operation not supported")                        \
    X(ETIMEDOUT, 12, "timed out")

enum vm_err {
    VM_OK = 0,
#define X(name, num, text) VM_##name = -(num),
    VM_ERRNO_MAP(X)
#undef X
};

/* "VM_EINVAL" for VM_EINVAL, "VM_OK" for 0, "VM_E?" for an unknown code. */
const char *vm_err_name(int code);
/* Human text for a code ("invalid argument"); never NULL. */
const char *vm_strerror(int code);

/*
 * A diagnostic: the first error set wins (later calls are ignored), so the
 * innermost location is what the user sees.  `where` is an optional
 * location prefix (file, JSON path, line) the caller may fill before
 * descending; vm_diag_set() formats only the message part.
 */
#define VM_DIAG_MSG_MAX 512
struct vm_diag {
    int code;                      /* 0 while no error was set */
    char msg[VM_DIAG_MSG_MAX];     /* lower case, no full stop */
};

/* Reset to "no error". */
void vm_diag_clear(struct vm_diag *d);
/*
 * Record an error with a printf-style message and return `code`.
 * `d` may be NULL (the message is dropped, the code still returned).
 * If `d` already holds an error, it is kept and `code` is returned.
 */
int vm_diag_set(struct vm_diag *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
