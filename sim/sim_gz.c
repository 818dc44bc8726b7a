/*
 * sim_gz.c - zlib reads with trace-reader errors (sim_gz.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sim_gz.h"

int sim_gz_read(gzFile gz, void *buf, unsigned cap, const char *path, uint64_t line,
                struct vm_diag *d)
{
    int n = gzread(gz, buf, cap);
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum);
    /* a cut stream (Z_BUF_ERROR) still delivers what it has: report it
     * when nothing more comes, on the line that is then incomplete */
    if (n >= 0 && !(n == 0 && errnum != Z_OK))
        return n;
    if (errnum == Z_ERRNO)
        return vm_diag_set(d, VM_EIO, "'%s': read error: %s", path, strerror(errno));
    if (errnum == Z_MEM_ERROR)
        return vm_diag_set(d, VM_ENOMEM, "'%s': out of memory in zlib", path);
    if (errnum == Z_BUF_ERROR)
        return vm_diag_set(d, VM_EPARSE, "%s:%" PRIu64 ": expected more gzip data, got "
                           "unexpected end of file (truncated gzip)", path, line);
    return vm_diag_set(d, VM_EPARSE, "%s:%" PRIu64 ": expected gzip data, got %s", path, line,
                       msg ? msg : "an error");
}
