/*
 * sim_blocktrace.h - the reader of vmsim blocktrace v1 (file-I/O traces,
 * gzip or plain CSV; format in workloads/traces/README.md) and the rule
 * that lays the files they touch onto one virtual disk, giving the
 * guest's I/O stream as struct vm_blkio requests (base/vm_blkio.h).
 *
 * The layout: every file the trace names (R, W or F rows) becomes one
 * extent, in order of first appearance, the first at start_sector, each
 * ceil(max end offset over the trace's R/W rows / align) * align bytes
 * long (a file only flushed gets 0 bytes).  A request covers the 4 KiB
 * sectors its byte range [offset, offset + length) touches within its
 * file's extent; an F row is a VM_BLKIO_FLUSH (sector 0, nr 0); arrival
 * t_ns is timestamp_s in ns, rounded half up at the tenth decimal.
 *
 * Errors name the file and line, as sim_trace.c's do:
 * "trace.csv.gz:17: expected op 'R', 'W' or 'F', got 'Q'".
 */
#ifndef SIM_BLOCKTRACE_H
#define SIM_BLOCKTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_blkio.h"

#define SIM_BLOCKTRACE_HEADER "timestamp_s,op,offset,length,file"
#define SIM_BLOCKTRACE_ALIGN_DEFAULT (1u << 20)     /* bytes: 1 MiB */
#define SIM_BLOCKTRACE_MAX_ROWS 10000000u           /* rows one load keeps at most */
#define SIM_BLOCKTRACE_LINE_MAX 8192                /* bytes per line, '\n' excluded */
#define SIM_BLOCKTRACE_NAME_MAX 4095                /* bytes per file name (PATH_MAX - 1) */
#define SIM_BLOCKTRACE_NAMES_MAX (64u << 20)        /* bytes of distinct file names in all */

/* What one load found.  nr_rows_op is indexed by enum vm_blkio_op. */
struct sim_blocktrace_stats {
    uint64_t nr_rows;
    uint64_t nr_rows_op[3];         /* VM_BLKIO_READ, _WRITE, _FLUSH */
    uint64_t bytes_read, bytes_written;
    uint64_t nr_files;              /* distinct names, F-only files included */
    uint64_t layout_sectors;        /* the extents' total: [start, start + this) */
    uint64_t duration_ns;           /* the last row's timestamp */
};

/* A loaded trace: ios[0..nr_ios) in trace order, one per row, owned. */
struct sim_blocktrace {
    struct vm_blkio *ios;
    size_t nr_ios;
    struct sim_blocktrace_stats stats;
};

/*
 * Read path (gzip or plain) and lay it out on a disk of disk_sectors
 * 4 KiB sectors from start_sector, extents rounded up to align_bytes (0:
 * SIM_BLOCKTRACE_ALIGN_DEFAULT; else a multiple of 4096).  On success
 * *out holds the requests (free with sim_blocktrace_free()); on error *out
 * is empty and d says why:
 *   VM_ENOENT   no such file
 *   VM_EINVAL   a directory, or align_bytes not a multiple of 4096
 *   VM_EIO      a read error
 *   VM_ENOMEM   out of memory
 *   VM_EPARSE   "FILE:LINE: expected ..., got ..." for a bad header, a
 *               wrong field count, an unknown op, a negative or
 *               non-numeric timestamp, offset or length, a zero length
 *               in an R/W row, non-zero offset or length in an F row, an
 *               empty file name (or one with control characters), a
 *               timestamp going backwards, a line longer than
 *               SIM_BLOCKTRACE_LINE_MAX, more than SIM_BLOCKTRACE_MAX_ROWS
 *               rows, a damaged gzip stream, or no rows at all
 *   VM_ERANGE   the first request (in trace order) that lands past the
 *               disk: "FILE:LINE: request ends at sector X, past the
 *               disk's end (N sectors of 4 KiB): a write of file 'f'
 *               (...)", X its last sector
 */
int sim_blocktrace_load(const char *path, uint64_t disk_sectors, uint64_t start_sector,
                        uint64_t align_bytes, struct sim_blocktrace *out, struct vm_diag *d);
/* sim_blocktrace_load() keeping at most max_rows rows (0: the default
 * cap); a longer trace is a VM_EPARSE naming the first line beyond. */
int sim_blocktrace_load_max(const char *path, uint64_t disk_sectors, uint64_t start_sector,
                            uint64_t align_bytes, uint64_t max_rows,
                            struct sim_blocktrace *out, struct vm_diag *d);
/* Sectors that R and W requests cover, each counted once: the distinct
 * 4 KiB file blocks the trace touches (the layout maps them one to one).
 * Sorts a copy of the requests; UINT64_MAX when out of memory. */
uint64_t sim_blocktrace_distinct_sectors(const struct sim_blocktrace *bt);
/* Free the requests and empty *bt (bt may be NULL or already empty). */
void sim_blocktrace_free(struct sim_blocktrace *bt);

#endif
