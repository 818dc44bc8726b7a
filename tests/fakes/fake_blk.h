/*
 * fake_blk.h - a block device port for unit tests, over a vm_fpstore.
 *
 * Deterministic and manual: submit() only queues a request (and logs it);
 * nothing completes until the test calls fake_blk_run() or
 * fake_blk_run_one(), so a test can interleave guest accesses with the
 * completions of a save or restore.  Completion is FIFO in submit order.
 * A WRITE's content is applied to the store when it completes (from the
 * request's fps/bytes at that moment, so the caller must keep them intact
 * until the callback, as port_blk.h requires); a READ is filled from the
 * store when it completes.  FLUSH moves nothing.
 *
 * Fault injection (SQLite test_vfs style): fake_blk_fail_writes(dev, k,
 * mode, rc) makes the k-th write request submitted after the call
 * (0-based: k = 0 is the next one) complete with rc instead of being
 * applied; VM_FAULT_ONCE fails only that one, VM_FAULT_PERSIST that one
 * and every later write, VM_FAULT_OFF disarms.  Requests are counted, not
 * device I/Os (a request with nr_ios = 64 is one write).  Reads likewise.
 * fake_blk_nr_failed() counts the requests failed since the last arming
 * call of either kind.  Sweep it so every write fails once:
 *
 *   for (int k = 0;; k++) {
 *       struct fake_blk *dev = fake_blk_new(1024);
 *       fake_blk_fail_writes(dev, k, VM_FAULT_ONCE, VM_EIO);
 *       int rc = run_checkpoint(dev);
 *       if (fake_blk_nr_failed(dev) == 0) break;       // past the last write
 *       ck_assert_int_eq(rc, VM_EIO);
 *   }
 *
 * Timing: with fake_blk_set_timing(dev, clk, ns_per_io, ns_per_block) the
 * fake stamps submit_ns from the clock and, at each completion, advances
 * the clock by ns_per_io * nr_ios + ns_per_block * nr_blocks and stamps
 * done_ns; without a clock both stay 0.
 *
 * Out of order and crashes: fake_blk_run_nth(dev, i) completes the i-th
 * queued request (0 = the oldest) and leaves the others queued in their
 * order, so a test can complete requests in every order.
 * fake_blk_crash(dev) is a host crash: every queued request is dropped
 * without its callback and without touching the store (those writes never
 * land; their log entries get rc FAKE_BLK_LOST).  The callers' state that
 * waited for them is then garbage: a test opens a fresh model over the
 * same store, as a host reboots.
 *
 * Out-of-range requests (lba + nr_blocks beyond the device) are refused
 * by submit() with VM_ERANGE; the callback then does not run.
 */
#ifndef FAKE_BLK_H
#define FAKE_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "base/vm_fpstore.h"
#include "fakes/fake_clock.h"
#include "ports/port_blk.h"

enum vm_fault_mode {
    VM_FAULT_OFF = 0,         /* disarm */
    VM_FAULT_ONCE = 1,        /* fail the k-th request only */
    VM_FAULT_PERSIST = 2,     /* fail the k-th request and every later one */
};

/* One logged request, recorded at submit. */
struct fake_blk_logent {
    enum port_blk_op op;
    uint64_t lba;
    uint32_t nr_blocks;
    uint32_t nr_ios;          /* as submitted (0 = 1) */
    int packed;
    uint32_t nr_fps;          /* packed: fingerprints carried (writes) */
    uint32_t len;             /* packed: metadata bytes carried (writes) */
    int rc;                   /* completion code; 1 while queued, FAKE_BLK_LOST if crashed */
};

struct fake_blk_qent {
    struct port_blk_req *req;
    size_t log_idx;           /* sequence number of its log entry */
    int rc;                   /* injected failure, or 0 */
};

struct fake_fail {
    int mode;                 /* enum vm_fault_mode */
    uint64_t countdown;       /* requests of this kind still to pass */
    int rc;
};

struct fake_blk {
    struct port_blk base;     /* first: &dev->base is the port */
    struct vm_fpstore *store; /* the device content; tests read it directly */
    uint64_t nr_blocks;
    /* FIFO of submitted, not yet completed requests */
    struct fake_blk_qent *q;
    size_t q_head, q_len, q_cap;
    /* request log, in submit order */
    struct fake_blk_logent *log;
    size_t log_len, log_cap;
    size_t log_first;         /* sequence number of log[0] */
    struct fake_fail fail_read, fail_write;
    uint64_t nr_failed;
    /* counters */
    uint64_t nr_submitted, nr_completed;
    uint64_t nr_write_ios, nr_read_ios;
    /* timing (optional) */
    struct fake_clock *clock;
    uint64_t ns_per_io, ns_per_block;
};

/* A device of nr_blocks 4 KiB blocks, empty.  NULL when out of memory. */
struct fake_blk *fake_blk_new(uint64_t nr_blocks);
/* Free the device; requests still queued are dropped without callbacks. */
void fake_blk_free(struct fake_blk *dev);

/* Complete queued requests FIFO until the queue is empty, including those
 * submitted by the callbacks.  Returns how many completed. */
size_t fake_blk_run(struct fake_blk *dev);
/* Complete the oldest queued request; 1 if one completed, 0 if none queued. */
size_t fake_blk_run_one(struct fake_blk *dev);
size_t fake_blk_nr_queued(const struct fake_blk *dev);
/* Complete the i-th queued request (0 = oldest); 1 if it existed, else 0. */
size_t fake_blk_run_nth(struct fake_blk *dev, size_t i);
/* Drop every queued request without callbacks (a crash); returns how many. */
size_t fake_blk_crash(struct fake_blk *dev);
#define FAKE_BLK_LOST 2       /* log rc of a request a crash dropped */

/* Arm failure injection (see above).  Resets fake_blk_nr_failed(). */
void fake_blk_fail_writes(struct fake_blk *dev, uint64_t k, enum vm_fault_mode mode, int rc);
void fake_blk_fail_reads(struct fake_blk *dev, uint64_t k, enum vm_fault_mode mode, int rc);
uint64_t fake_blk_nr_failed(const struct fake_blk *dev);

/* Request log: entries in submit order; fake_blk_log_clear() empties it. */
size_t fake_blk_log_len(const struct fake_blk *dev);
const struct fake_blk_logent *fake_blk_log_at(const struct fake_blk *dev, size_t i);
void fake_blk_log_clear(struct fake_blk *dev);

void fake_blk_set_timing(struct fake_blk *dev, struct fake_clock *clock, uint64_t ns_per_io,
                         uint64_t ns_per_block);

#endif
