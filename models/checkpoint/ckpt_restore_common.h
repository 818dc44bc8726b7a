/*
 * ckpt_restore_common.h - machinery the three restore policies share
 * (private to models/checkpoint/; the world only sees ckpt.h).
 *
 * What is shared:
 *   - loading: the header read (packed extent at lba 0), then the maps
 *     read (packed extent at hdr.maps_lba), both asynchronous and driven
 *     by step(); the header and maps are checked against guest memory;
 *   - zero pages: once the maps are loaded, every page of the zero map is
 *     made present as a zero page, without a read or a charge (counted in
 *     zero_pages_installed, and as installed): no fault, read or streamer
 *     ever meets one;
 *   - the read pool: a bounded table of requests, each with a fingerprint
 *     buffer, allocated once the maps are known, so neither the fault path
 *     nor the background path allocates per page or per request;
 *   - page state as flat bitmaps: installed (what this restore made
 *     present), faulted (counted once per page), wanted (faulted and not
 *     yet installed: decides what a read installs and what is counted as
 *     prefetched), in flight (pages covered by a plain read) and, per
 *     storage block, in flight and pages still absent;
 *   - two streamers the policies use for their background/eager reads:
 *     runs of pages in page order (lba-contiguous, io_pages at most) and
 *     whole storage blocks in file order.
 *
 * Reads:
 *   RUN     plain read of nr_pages pages whose saved copies are consecutive
 *           device blocks (FLAT, STREAM, uncompressed SBLOCK);
 *   SBLOCK  the whole storage block sb: a plain extent (uncompressed, its
 *           pages in member order) or a packed extent of page fingerprints
 *           (compressed: it can only be read whole).  A compressed storage
 *           block is one zstd frame, so every read of it counts all its
 *           pages in decompress_out.
 * A read installs either every page of it that is still absent
 * (INSTALL_ALL) or only the absent pages marked wanted (INSTALL_WANTED).
 * A page is installed at most once: every install checks the installed
 * bitmap first, so a background read racing a fault read never
 * overwrites a page the guest may already have written.
 *
 * Errors: the first error (metadata, I/O, corrupt extent) is kept.
 * fault() returns it at once; step() returns WAIT until every read of this
 * restore has completed and then the error, so destroy() after an error is
 * safe.  destroy() must not be called while reads are in flight (the port
 * would call back into freed state): the world drives step() until DONE or
 * an error, or lets the device drain first.
 */
#ifndef CKPT_RESTORE_COMMON_H
#define CKPT_RESTORE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"

/* Reads reserved for guest faults (vCPUs blocked at once); a fault that
 * finds none free answers VM_EAGAIN and retries after a completion. */
#define CKPT_RESTORE_FAULT_SLOTS 32u

enum ckpt_restore_common_phase {
    CKPT_RESTORE_LOAD_HEADER = 0,   /* header read submitted */
    CKPT_RESTORE_LOAD_MAPS = 1,     /* maps read submitted */
    CKPT_RESTORE_READY = 2,         /* maps loaded, pool allocated */
};

enum ckpt_restore_common_kind { CKPT_RESTORE_READ_RUN = 0, CKPT_RESTORE_READ_SBLOCK = 1 };
enum ckpt_restore_common_install { CKPT_RESTORE_INSTALL_ALL = 0, CKPT_RESTORE_INSTALL_WANTED = 1 };

struct ckpt_restore_common_read {
    struct port_blk_req req;        /* req.data points back at this slot */
    struct ckpt_restore *r;
    bool busy;
    bool background;                /* counts against io_depth, not the fault slots */
    int kind;                       /* enum ckpt_restore_common_kind */
    int install;                    /* enum ckpt_restore_common_install */
    uint64_t first_page;            /* RUN */
    uint32_t nr_pages;              /* RUN: pages; SBLOCK: member pages */
    uint32_t sb;                    /* SBLOCK: storage block index */
    uint64_t *fps;                  /* cap fingerprints */
    uint32_t cap;
};

/* Restore state; one struct for every policy (each uses what it needs). */
struct ckpt_restore {
    const char *policy;             /* policy name, for diags */
    struct ckpt_restore_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats stats;
    struct vm_diag diag;            /* first error, with its message */
    int err;                        /* first error code, 0 while none */
    int phase;                      /* enum ckpt_restore_common_phase */
    bool sblock_only;               /* VM_ENOTSUP unless the layout is SBLOCK */

    /* metadata reads (header, then maps) */
    struct port_blk_req meta_req;
    void *meta_buf;
    bool meta_busy;                 /* submitted, callback not yet run */
    bool meta_ready;                /* callback ran, step() has not consumed it */
    int meta_rc;

    struct ckpt_image *img;
    uint64_t nr_pages;
    bool packed;                    /* compressed SBLOCK: extents read whole */

    /* page state (nr_pages bits each) */
    uint64_t *installed;
    uint64_t *faulted;
    uint64_t *wanted;
    uint64_t *inflight;             /* pages covered by a RUN read in flight */
    uint64_t nr_installed;
    /* storage-block state (SBLOCK layout) */
    uint8_t *sb_inflight;           /* 1 while a read of the whole block is in flight */
    uint32_t *sb_left;              /* member pages not yet installed */
    uint32_t *sb_pages;             /* member pages */
    uint32_t max_sb_pages;

    /* read pool */
    struct ckpt_restore_common_read *reads;
    uint32_t nr_reads;
    uint32_t nr_bg_slots;           /* the first nr_bg_slots are the background's */
    uint32_t run_pages;             /* longest RUN read the policy issues */
    uint32_t bg_inflight;
    uint32_t fault_inflight;
    uint64_t *block_buf;            /* block_pages scratch for ckpt_image_block_pages */

    /* streamer cursors */
    uint64_t cursor_page;
    uint32_t cursor_sb;
};

/*
 * Allocate the state and submit the header read.  bg_slots reads are kept
 * for the background/eager streamer, fault_slots for guest faults;
 * run_pages is the longest RUN read the policy will issue (>= 1).  0, or
 * VM_ENOMEM / the port's submit error with a diag (nothing to destroy).
 */
int ckpt_restore_common_start(const char *policy, const struct ckpt_restore_cfg *cfg,
                              const struct ckpt_env *env, uint32_t bg_slots,
                              uint32_t fault_slots, uint32_t run_pages, bool sblock_only,
                              struct ckpt_restore **out, struct vm_diag *d);

/*
 * Advance loading.  Returns 0 once the image is loaded and the pool
 * allocated (phase READY), CKPT_STEP_WAIT while a metadata read or, after
 * an error, any read is in flight, or the first error (VM_ECORRUPT,
 * VM_EIO, VM_ENOTSUP, VM_EINVAL, VM_ENOMEM).
 */
int ckpt_restore_common_load(struct ckpt_restore *r);

/*
 * What step() returns once loaded and the policy has submitted what it
 * wanted: the error (when every read has drained), DONE when every page is
 * installed and no read is in flight, otherwise WAIT.
 */
int ckpt_restore_common_status(struct ckpt_restore *r);

/* Loaded and every page installed. */
bool ckpt_restore_common_complete(const struct ckpt_restore *r);

/*
 * Background streamers, INSTALL_ALL, up to `depth` background reads in
 * flight (page runs: at most io_pages pages each).  They skip installed
 * pages and pages/storage blocks already in flight, and wrap around once
 * per call so blocks passed while a fault read was in flight are found
 * again.  0 or the submit error (also kept as the restore's error).
 */
int ckpt_restore_common_stream_pages(struct ckpt_restore *r, uint32_t io_pages, uint32_t depth);
int ckpt_restore_common_stream_sblocks(struct ckpt_restore *r, uint32_t depth);

/*
 * Fault-path helpers.  Mark the page faulted (counting restore_faults
 * once per page) and wanted.  block_wanted marks its whole block wanted
 * (storage-block restore installs the faulting block).  Returns 0 when
 * the page is installed already, VM_EAGAIN to wait, or the restore's
 * error, VM_EINVAL for a page outside memory.
 */
int ckpt_restore_common_fault_begin(struct ckpt_restore *r, uint64_t page, bool block_wanted);
/* Submit a fault read of just the page (its block, or its whole packed
 * extent when compressed), INSTALL_WANTED, unless one covering it is in
 * flight.  VM_EAGAIN, or an error. */
int ckpt_restore_common_fault_page(struct ckpt_restore *r, uint64_t page);
/* Submit a fault read of the page's whole storage block, unless one is in
 * flight; installs every block (install_all) or the wanted ones.
 * VM_EAGAIN, or an error. */
int ckpt_restore_common_fault_sblock(struct ckpt_restore *r, uint64_t page, bool install_all);

/* Storage block of a page, or CKPT_NO_SBLOCK (SBLOCK layout, loaded). */
uint32_t ckpt_restore_common_page_sblock(const struct ckpt_restore *r, uint64_t page);

/* The first error's message ("" while none). */
const char *ckpt_restore_common_diag(const struct ckpt_restore *r);

const struct ckpt_stats *ckpt_restore_common_stats(const struct ckpt_restore *r);
void ckpt_restore_common_destroy(struct ckpt_restore *r);

#endif
