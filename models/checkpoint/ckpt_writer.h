/*
 * ckpt_writer.h - the write machinery every save policy shares (private
 * to models/checkpoint/; the world only sees ckpt.h).
 *
 * What it does, once for all save policies:
 *   - request pools: bounded tables of write requests, each with its own
 *     fingerprint buffer, allocated at start() so neither the fault path
 *     nor the saver allocates per page;
 *   - submit and count: write_reqs, write_ios, bytes_written,
 *     payload_bytes, staging_bytes(_max) in the policy's struct ckpt_stats;
 *   - track requests in flight and the bytes acknowledged (for bandwidth
 *     estimates), and append-allocate file space at a cursor;
 *   - errors: the first failed completion (rc < 0), a refused submit or a
 *     full file is kept in w->err.  ckpt_writer_failed() then untraces all
 *     guest memory once (so the guest never hangs on a trace of a save
 *     that will not finish) and returns the error; a policy's fault()
 *     answers 0 from then on and its step() returns
 *     ckpt_writer_step_failed(): WAIT while requests are in flight, then
 *     the error, so destroy() never frees a request the device still
 *     holds;
 *   - the end of a save: ckpt_writer_finish() writes the maps extent (if
 *     the image has maps) after every data write is acknowledged, then the
 *     header after the maps are acknowledged, then reports DONE.  The
 *     header is what makes an image valid, so it is written last.
 *
 * A request's lifetime: ckpt_writer_get() (NULL when the pool is empty) ->
 * the policy fills r->fps -> ckpt_writer_submit() -> the device completes
 * it -> w->done(owner, r, rc) -> it returns to its pool.  A policy that
 * took a request and will not submit it gives it back with
 * ckpt_writer_put().
 *
 * destroy() while requests are in flight is a caller error (the device
 * would call back into freed memory); the world drives step() to DONE or
 * to an error first.
 */
#ifndef CKPT_WRITER_H
#define CKPT_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"

#define CKPT_WRITER_MAX_POOLS 2

struct ckpt_writer;

struct ckpt_wreq {
    struct port_blk_req req;      /* first: the port's callback gets &r->req */
    struct ckpt_writer *w;
    uint64_t *fps;                /* pool->fps_per_req fingerprints */
    uint64_t staged_bytes;        /* staging released when it completes */
    int pool;                     /* index, or -1 for the maps/header request */
    uint32_t id;                  /* index in its pool */
    uint64_t tag;                 /* the policy's */
    const uint64_t *lbas;         /* set by the policy before submit: a vectored
                                     run, I/O i at lbas[i] (NULL: consecutive) */
    const uint32_t *io_blocks;    /* with lbas: I/O i's blocks (NULL: equal I/Os) */
    struct ckpt_wreq *next_free;
};

struct ckpt_wpool {
    struct ckpt_wreq *reqs;
    uint64_t *fps;                /* one allocation for all buffers */
    uint32_t nr_reqs;
    uint32_t fps_per_req;
    uint32_t nr_free;
    struct ckpt_wreq *free;
};

typedef void (*ckpt_writer_done_fn)(void *owner, struct ckpt_wreq *r, int rc);

enum ckpt_writer_meta {
    CKPT_WMETA_NONE = 0,          /* data phase */
    CKPT_WMETA_MAPS,              /* maps extent in flight */
    CKPT_WMETA_HEADER,            /* header in flight */
    CKPT_WMETA_DONE,              /* header acknowledged: image valid */
};

struct ckpt_writer {
    struct port_blk *dev;
    struct port_mem *mem;
    const struct port_clock *clock;
    struct ckpt_stats *st;
    uint64_t dev_blocks;
    struct ckpt_wpool pools[CKPT_WRITER_MAX_POOLS];
    uint32_t in_flight;           /* requests submitted and not completed */
    int err;                      /* first error, 0 while fine */
    bool untraced;                /* memory untraced after the error */
    uint64_t cursor;              /* next free lba for appended extents */
    uint64_t bytes_acked;         /* device bytes of successful writes */
    ckpt_writer_done_fn done;
    void *owner;
    /* the end: maps then header */
    enum ckpt_writer_meta meta;
    struct ckpt_wreq meta_req;
    void *maps_buf;
    uint8_t hdr_buf[VM_PAGE_SIZE];
};

/* Set up a writer over env's device and memory, counting into st; the
 * append cursor starts at CKPT_DATA_LBA.  done (may be NULL) is called for
 * every pool request's completion before it returns to its pool. */
void ckpt_writer_init(struct ckpt_writer *w, const struct ckpt_env *env, struct ckpt_stats *st,
                      ckpt_writer_done_fn done, void *owner);
/* Add pool idx of nr_reqs requests of fps_per_req fingerprints each.
 * 0 or VM_ENOMEM. */
int ckpt_writer_add_pool(struct ckpt_writer *w, int idx, uint32_t nr_reqs, uint32_t fps_per_req);
/* Free the pools and buffers (no request may be in flight). */
void ckpt_writer_fini(struct ckpt_writer *w);

/* A free request of pool idx, or NULL when all are in use. */
struct ckpt_wreq *ckpt_writer_get(struct ckpt_writer *w, int idx);
/* Give back a request taken with get() and not submitted. */
void ckpt_writer_put(struct ckpt_writer *w, struct ckpt_wreq *r);
static inline uint32_t ckpt_writer_nr_free(const struct ckpt_writer *w, int idx)
{
    return w->pools[idx].nr_free;
}

/* Reserve nr_blocks at the append cursor: their first lba in *lba.
 * VM_ENOSPC (kept as the writer's error) when the file is full. */
int ckpt_writer_alloc(struct ckpt_writer *w, uint64_t nr_blocks, uint64_t *lba);

/*
 * Submit r as a write of nr_blocks blocks at lba standing for nr_ios
 * device I/Os.  packed = 0: r->fps holds nr_blocks page fingerprints;
 * packed = 1: r->fps holds nr_fps fingerprints packed into nr_blocks
 * blocks.  payload_bytes (page bytes before compression) and the device
 * bytes are counted; staged_bytes of staging memory are released when it
 * completes.  On a refused submit the request returns to its pool and the
 * error is kept and returned.
 */
int ckpt_writer_submit(struct ckpt_writer *w, struct ckpt_wreq *r, uint64_t lba,
                       uint32_t nr_blocks, uint32_t nr_ios, int packed, uint32_t nr_fps,
                       uint64_t payload_bytes, uint64_t staged_bytes);

/* Staging memory taken (delta > 0) or released (delta < 0). */
void ckpt_writer_stage(struct ckpt_writer *w, int64_t delta);

/* The kept error (0 if none); on the first call after an error untrace
 * every guest page. */
int ckpt_writer_failed(struct ckpt_writer *w);
/* What step() returns once the save failed: WAIT while requests are in
 * flight, then the error. */
int ckpt_writer_step_failed(struct ckpt_writer *w);

/*
 * Finish the save; call from step() once every data write is submitted.
 * img->hdr must be complete except for the maps fields, which this fills
 * (maps at the cursor when ckpt_image_has_maps(); none otherwise).  Returns CKPT_STEP_WAIT while data,
 * maps or header writes are in flight, CKPT_STEP_DONE once the header is
 * acknowledged, or the save's error.
 */
int ckpt_writer_finish(struct ckpt_writer *w, struct ckpt_image *img);

#endif
