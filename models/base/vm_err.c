/*
 * vm_err.c - names and texts of the VM_E* codes, and located diagnostics.
 *
 * Based on libuv's UV_ERRNO_MAP (one table generates everything) and QEMU's
 * Error ** rule (first error set wins).  Nothing here prints.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vm_err.h"

const char *vm_err_name(int code)
{
    switch (code) {
    case VM_OK:
        return "VM_OK";
#define X(name, num, text) case VM_##name: return "VM_" #name;
    VM_ERRNO_MAP(X)
#undef X
    default:
        return "VM_E?";
    }
}

const char *vm_strerror(int code)
{
    switch (code) {
    case VM_OK:
        return "success";
#define X(name, num, text) case VM_##name: return text;
    VM_ERRNO_MAP(X)
#undef X
    default:
        return "unknown error";
    }
}

void vm_diag_clear(struct vm_diag *d)
{
    if (!d)
        return;
    d->code = 0;
    d->msg[0] = '\0';
}

int vm_diag_set(struct vm_diag *d, int code, const char *fmt, ...)
{
    if (!d || d->code != 0)
        return code;
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return code;
}
