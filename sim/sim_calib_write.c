/*
 * sim_calib_write.c - the cost of a small write() into the page cache
 * (sim_calib.h: small_write_ns), the write QEMU's background snapshot makes
 * after saving each host page: ram_save_release_protection() flushes the
 * migration stream (qemu_fflush: a writev of the page's record, its 8-byte
 * header and 4 KiB) before it un-protects the page (migration/ram.c).
 *
 * 4 KiB write()s appended to an unnamed file (O_TMPFILE, else a mkstemp
 * file unlinked at once, so an interrupted run leaves nothing) in $TMPDIR
 * or /tmp, through the page cache (no O_DIRECT), from one cache-hot
 * buffer: the syscall, the file system's block reservation and a fresh
 * page-cache page per write.  The file is truncated, untimed, every 32
 * MiB, which drops its pages before writeback starts, so the figure is
 * the CPU cost alone.  Not measured: waiting for writeback when the dirty
 * limit is reached (balance_dirty_pages; the simulator models that as the
 * stream's buffer), and the cache misses of a cold source (a saver reads
 * the guest page; page_copy_ns stands for that).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "sim_calib.h"

#define WARMUP_SAMPLES 2
#define FILE_MAX_BYTES (32u << 20)

/* The name of the file system of fd, as the kernel's magic says. */
static void fs_name(int fd, char *out)
{
    static const struct { unsigned long magic; const char *name; } known[] = {
        { 0xEF53, "ext4" },                 /* ext2/3/4 share it */
        { 0x01021994, "tmpfs" },
        { 0x58465342, "xfs" },
        { 0x9123683E, "btrfs" },
        { 0x794C7630, "overlayfs" },
        { 0xF2F52010, "f2fs" },
        { 0x2FC12FC1, "zfs" },
        { 0x6969, "nfs" },
        { 0x65735546, "fuse" },
    };
    struct statfs st;
    snprintf(out, 32, "unknown");
    if (fstatfs(fd, &st) != 0)
        return;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((unsigned long)st.f_type == known[i].magic) {
            snprintf(out, 32, "%s", known[i].name);
            return;
        }
    snprintf(out, 32, "0x%lx", (unsigned long)st.f_type);
}

/* An unnamed file in dir opened for writing, or -1 with errno. */
static int open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -1;
#endif
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.vmsim-small-write.XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int tfd = mkstemp(path);
    if (tfd >= 0)
        unlink(path);
    return tfd;
}

int sim_calib_small_write(const char *dir, uint32_t batch, uint32_t max_samples,
                          struct sim_calib_fig *fig, char *fs, struct vm_diag *d)
{
    memset(fig, 0, sizeof *fig);
    snprintf(fs, 32, "unknown");
    if (batch == 0 || max_samples == 0 || (uint64_t)batch * VM_PAGE_SIZE > FILE_MAX_BYTES)
        return vm_diag_set(d, VM_EINVAL, "small writes: expected 1..%u writes per sample and "
                           "at least one sample, got %u and %u", FILE_MAX_BYTES / VM_PAGE_SIZE,
                           batch, max_samples);
    if (!dir || !dir[0])
        dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    uint32_t n = max_samples + WARMUP_SAMPLES;
    double *v = malloc(sizeof *v * n);
    if (!v)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for %u samples", n);
    int fd = open_unnamed(dir);
    if (fd < 0) {
        free(v);
        return vm_diag_set(d, VM_EIO, "small writes: cannot create a file in %s: %s", dir,
                           strerror(errno));
    }
    fs_name(fd, fs);
    static _Alignas(64) unsigned char page[VM_PAGE_SIZE];
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = (unsigned char)(i * 131 + 7);    /* any content: the cache does not look */
    int rc = 0;
    uint64_t off = 0;
    for (uint32_t s = 0; s < n && rc == 0; s++) {
        if (off + (uint64_t)batch * VM_PAGE_SIZE > FILE_MAX_BYTES) {
            if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
                rc = vm_diag_set(d, VM_EIO, "small writes: truncate: %s", strerror(errno));
                break;
            }
            off = 0;
        }
        ssize_t short_or_bad = VM_PAGE_SIZE;
        uint64_t t0 = sim_calib_now_ns();
        for (uint32_t i = 0; i < batch; i++) {
            ssize_t w = write(fd, page, VM_PAGE_SIZE);
            if (w != VM_PAGE_SIZE)
                short_or_bad = w;
        }
        uint64_t t1 = sim_calib_now_ns();
        if (short_or_bad != VM_PAGE_SIZE)
            rc = vm_diag_set(d, VM_EIO, "small writes: write to a file in %s: %s", dir,
                             short_or_bad < 0 ? strerror(errno) : "short write");
        off += (uint64_t)batch * VM_PAGE_SIZE;
        v[s] = (double)(t1 - t0) / batch;
    }
    close(fd);
    if (rc == 0)
        sim_calib_fig_from(v + WARMUP_SAMPLES, n - WARMUP_SAMPLES, fig);
    free(v);
    return rc;
}
