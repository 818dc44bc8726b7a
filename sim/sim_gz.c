/*
 * sim_gz.c - opening and reading trace files through zlib, with the
 * trace readers' errors (sim_gz.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

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
    /* zlib names a stream gzdopen() opened "<fd:N>": the file is named above */
    if (msg && strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": "))
        msg = strstr(msg, ": ") + 2;
    return vm_diag_set(d, VM_EPARSE, "%s:%" PRIu64 ": expected gzip data, got %s", path, line,
                       msg && *msg ? msg : "an error");
}

int sim_gz_open(const char *path, const char *what, unsigned buffer, gzFile *gz,
                struct stat *sb, struct vm_diag *d)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return vm_diag_set(d, VM_ENOENT, "'%s': no such file", path);
        return vm_diag_set(d, VM_EIO, "'%s': cannot open: %s", path, strerror(errno));
    }
    struct stat s;
    if (fstat(fd, &s) != 0) {
        int e = errno;
        close(fd);
        return vm_diag_set(d, VM_EIO, "'%s': cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(s.st_mode)) {
        close(fd);
        return vm_diag_set(d, VM_EINVAL, "'%s': expected %s, got a directory", path, what);
    }
    if (sb)
        *sb = s;
    *gz = gzdopen(fd, "rb");
    if (!*gz) {
        close(fd);
        return vm_diag_set(d, VM_ENOMEM, "'%s': cannot open gzip stream", path);
    }
    if (buffer)
        gzbuffer(*gz, buffer);
    return 0;
}
