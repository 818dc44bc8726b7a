/*
 * cons_copy.c - the grain copier every method drives: walk the copy set
 * (a bitmap of grains: the deltas' grains, or QEMU's dirty bitmap) from a
 * cursor and copy the set grains in batches of up to chunk_bytes, with at
 * most max_in_flight write I/Os in flight (a batch's read may make more,
 * when the I/O is larger than a grain and grains next to each other on
 * the disk lie apart in the delta's file; one grain that alone makes more
 * I/Os than max_in_flight goes alone).  The ESX methods' copier is the
 * VMkernel data mover's (CONS_DM_PARAMS in cons_int.h): 64 KiB I/Os (a
 * run of grains split into them, `io`), 32 in flight, as batches of up to
 * 1 MiB, two in flight, each read then written.  The I/Os of one batch go
 * to the device as one vectored read through the source view and one
 * vectored write into the target (cons_chain_read_grains): the device
 * sees every I/O, the simulator one request per batch.  Until the
 * twelfth session of 2026-12-02 this copier made each run of grains one
 * I/O of up to 1 MiB (also a run in the delta's file, scattered on the
 * disk) with 16 I/Os in flight: a batch of scattered grains took them all,
 * so one batch was in flight, its read then its write, with fewer and
 * larger I/Os than the data mover issues (a reviewer's finding).
 *
 * A grain's bit is cleared when its copy starts (so a guest write that
 * sets it again is copied again, as QEMU's dirty bitmap works) and the
 * grain is marked busy until the copy's write is down.  Methods that
 * mirror guest writes (CONS_F_MIRROR_CHECK) never let a copy and a guest
 * write of the same grain overlap: a copy skips a grain with a guest
 * write in flight and marks it wanted, and the methods park a guest write
 * that meets a busy or wanted grain (cons_guest_park) until the copy is
 * done - so writes that keep coming to a hot grain cannot starve its copy
 * - otherwise the copy could write the grain's old data over the mirrored
 * write (the race US10956041's mirror must avoid; QEMU's
 * mirror_wait_on_conflicts()).  A wanted grain is copied in the first
 * batch after its writes are down (cons_copy_kick takes the queue of
 * wanted grains before the cursor's), not when the cursor comes round
 * again: a write parked on it would otherwise wait for the rest of the
 * pass (tens of seconds on a large delta).
 *
 * QEMU's methods (CONS_F_QEMU_COPY) have their own copier, as
 * block/mirror.c (QEMU 8.x/9.x) does it: no wanted grains.  Each op is
 * one extent: mirror_iteration() takes the first dirty chunk from the
 * iterator, waits for any op in flight on it (mirror_wait_on_conflicts():
 * a copy, or an active write in write-blocking mode) rather than skipping
 * it, then extends it over the following dirty chunks not in flight, up
 * to one op (chunk_bytes, 1 MiB by default).  That is a simplification:
 * QEMU's mirror_iteration() claims an extent of up to buf_size (16 MiB)
 * at once - it clears the extent's dirty bits and blocks it with a
 * pseudo-op - then issues it as ops of at most 1 MiB; the model claims
 * at most one op's worth per pass and clears a grain's bit only when its
 * op starts.  So it understates the background re-copies (a guest write
 * to a claimed grain whose op has not started dirties it again in QEMU,
 * not here: the model copies the new data once) and the write-blocking
 * latency on the not-yet-started part of an extent (an active write there
 * waits on the pseudo-op in QEMU, not here).  A new op is issued
 * whenever a slot is free (mirror_run() loops while in_flight <
 * MAX_IN_FLIGHT); with every slot
 * taken, or nothing dirty but ops in flight, the job waits for the oldest
 * op in flight (mirror_wait_for_free_in_flight_slot() waits on the first
 * background op of ops_in_flight) and only then looks again.
 */
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "consolidation/cons_int.h"

struct cons_copy_op {
    struct cons_engine *e;
    uint32_t epoch;
    uint32_t ng, ios;               /* grains, device I/Os (runs) */
    uint32_t pending;               /* per-run writes of the fallback */
    int rc;
    uint64_t bytes;
    uint64_t *g;                    /* the grains, increasing */
    uint64_t *fps;
    uint64_t seq;                   /* issue order (cons_engine.copy_seq) */
    bool live;                      /* in flight */
    struct cons_copy_op *next;      /* free list */
    struct cons_copy_op *all;       /* every op the engine made */
};

/* The copy's I/O size in 4 KiB sectors (cons_method_cfg.io_bytes,
 * rounded down; 0: a run of grains is one I/O). */
static uint32_t io_sectors(const struct cons_engine *e)
{
    uint64_t s = e->cfg.mcfg.io_bytes / 4096;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* The I/Os a run of len sectors makes with I/Os of at most io_sec (the
 * copier counts the disk's short last grain whole: at most one I/O more
 * than it makes, which only holds the next batch back sooner). */
static uint32_t run_ios(uint64_t len, uint32_t io_sec)
{
    return io_sec ? (uint32_t)((len + io_sec - 1) / io_sec) : 1;
}

/* The I/Os a grain of gs sectors adds to a batch whose last run is
 * run_len sectors: it extends that run (run) or starts one of its own. */
static uint32_t grain_ios(bool run, uint64_t run_len, uint32_t gs, uint32_t io_sec)
{
    return run ? run_ios(run_len + gs, io_sec) - run_ios(run_len, io_sec) : run_ios(gs, io_sec);
}

static uint32_t chunk_grains(const struct cons_engine *e)
{
    uint64_t gbytes = (uint64_t)cons_chain_grain_sectors(e->ch) * 4096;
    uint64_t n = e->cfg.mcfg.chunk_bytes / gbytes;
    return n ? (uint32_t)n : 1;
}

void cons_copy_begin(struct cons_engine *e, int src_top, uint64_t *copyset, bool wrap)
{
    cons_copy_end(e);
    e->nr_grains = cons_chain_nr_grains(e->ch);
    e->src_top = src_top;
    e->copyset = copyset;
    e->busy = vm_bitmap_new(e->nr_grains);
    e->want = vm_bitmap_new(e->nr_grains);
    e->want_q = malloc(sizeof *e->want_q * CONS_WANT_Q);
    e->want_n = 0;
    if (!e->busy || !e->want || !e->want_q) {
        cons_fail(e, VM_ENOMEM, "copy bitmap");
        return;
    }
    e->copy_left = vm_bitmap_count(copyset, e->nr_grains);
    e->cursor = 0;
    e->slot_wait = NULL;
    e->wrap = wrap;
    e->copy_paused = false;
    cons_copy_kick(e);
}

/* One request's time on an idle device: its latency waves (or, if
 * longer, its I/Os' share of the IOPS limit), then its transfer. */
static double request_ns(const struct cons_device *d, uint32_t ios, double bytes,
                         uint64_t lat_ns, double bps)
{
    uint32_t qd = d->qdepth ? d->qdepth : 1;
    double delay = (double)((ios + qd - 1) / qd) * (double)lat_ns;
    if (d->iops > 0 && ios / d->iops * 1e9 > delay)
        delay = ios / d->iops * 1e9;
    return delay + (bps > 0 ? bytes / bps * 1e9 : 0);
}

/*
 * The copier's batches over `set` formed as cons_copy_kick() forms them
 * on an idle device (at most a chunk of grains and max_in_flight I/Os
 * each), each a read request through the view of the top layer (as many
 * I/Os as the grains make runs on the device, split at the I/O size:
 * cons_chain_read_runs) then a write request (a run of consecutive grains
 * its I/Os of the I/O size).  With batches of k write I/Os on average, at most
 * (max_in_flight - max_in_flight / 2) / k + 1 of them are in flight (a
 * batch starts when half the I/O slots are free), and at most as many as
 * the device serves at once, so the copy takes the longest of: the
 * batches' own times over that many; the bytes at the device's overlapped copy
 * rate; all the I/Os at its IOPS limit.  Not counted: the target's
 * metadata writes (a delta target's grain tables), the descriptor, the
 * stun's fixed part.  Cost: one pass over the set and the grain tables.
 */
double cons_copy_estimate_ns(const struct cons_engine *e, const uint64_t *set,
                             const struct cons_device *dev)
{
    if (!(dev->copy_bps > 0))
        return 1e30;
    uint64_t n = cons_chain_nr_grains(e->ch);
    double gbytes = (double)cons_chain_grain_sectors(e->ch) * 4096.0;
    uint32_t cg = chunk_grains(e), max = e->cfg.mcfg.max_in_flight ? e->cfg.mcfg.max_in_flight : 1;
    uint32_t io = io_sectors(e), gs = cons_chain_grain_sectors(e->ch);
    uint64_t *batch = malloc(sizeof *batch * cg);
    if (!batch)
        return 1e30;
    double serial_ns = 0, bytes = 0, rios = 0, wios = 0, batches = 0;
    uint64_t g = vm_bitmap_next_set(set, n, 0);
    while (g < n) {
        uint32_t ng = 0, runs = 0;          /* runs: the batch's write I/Os */
        uint64_t run_len = 0;
        while (g < n && ng < cg) {
            bool run = ng && g == batch[ng - 1] + 1;
            uint32_t add = grain_ios(run, run_len, gs, io);
            if (ng && add && runs + add > max)
                break;
            runs += add;
            run_len = run ? run_len + gs : gs;
            batch[ng++] = g;
            g = vm_bitmap_next_set(set, n, g + 1);
        }
        uint32_t reads = cons_chain_read_runs(e->ch, e->active, batch, ng, io);
        double b = ng * gbytes;
        serial_ns += request_ns(dev, reads, b, dev->read_lat_ns, dev->read_bps) +
                     request_ns(dev, runs, b, dev->write_lat_ns, dev->write_bps);
        bytes += b;
        rios += reads;
        wios += runs;
        batches++;
    }
    free(batch);
    if (batches == 0)
        return 0;
    /* batches of k I/Os in flight: cons_copy_kick() starts one while at
     * least `low` of the max slots are free, so at most (max - low) / k + 1;
     * and the device serves at most dev->requests at once */
    uint32_t low = max / 2 ? max / 2 : 1;
    double k = wios / batches;
    double in_flight = (double)(uint64_t)((max - low) / k) + 1;
    if (in_flight > batches)
        in_flight = batches;
    if (dev->requests && in_flight > dev->requests)
        in_flight = dev->requests;
    double t = serial_ns / in_flight;
    double t_bw = bytes / dev->copy_bps * 1e9;
    double t_iops = dev->iops > 0 ? (rios + wios) / dev->iops * 1e9 : 0;
    if (t_bw > t)
        t = t_bw;
    return t_iops > t ? t_iops : t;
}

void cons_copy_end(struct cons_engine *e)
{
    vm_bitmap_free(e->copyset);
    vm_bitmap_free(e->busy);
    vm_bitmap_free(e->want);
    free(e->want_q);
    e->copyset = e->busy = e->want = e->want_q = NULL;
    e->want_n = 0;
}

void cons_copy_free_ops(struct cons_engine *e)
{
    while (e->all_ops) {
        struct cons_copy_op *op = e->all_ops;
        e->all_ops = op->all;
        free(op->fps);
        free(op->g);
        free(op);
    }
    e->free_ops = NULL;
}

uint64_t cons_copy_left(const struct cons_engine *e)
{
    return e->copyset ? e->copy_left : 0;
}

void cons_copy_mark(struct cons_engine *e, uint64_t g0, uint64_t g1)
{
    if (!e->copyset)
        return;
    for (uint64_t g = g0; g <= g1 && g < e->nr_grains; g++)
        if (!vm_bitmap_test_and_set(e->copyset, g))
            e->copy_left++;
}

bool cons_copy_dirty(const struct cons_engine *e, uint64_t g)
{
    return e->copyset && g < e->nr_grains && vm_bitmap_test(e->copyset, g);
}

void cons_copy_unmark(struct cons_engine *e, uint64_t g)
{
    if (e->copyset && vm_bitmap_test(e->copyset, g)) {
        vm_bitmap_clear(e->copyset, g);
        e->copy_left--;
    }
}

bool cons_copy_busy(const struct cons_engine *e, uint64_t g0, uint64_t g1)
{
    if (!e->busy)
        return false;
    for (uint64_t g = g0; g <= g1 && g < e->nr_grains; g++)
        if ((e->copies && vm_bitmap_test(e->busy, g)) ||
            (vm_bitmap_test(e->want, g) && vm_bitmap_test(e->copyset, g)))
            return true;
    return false;
}

static void op_put(struct cons_engine *e, struct cons_copy_op *op)
{
    op->live = false;
    if (e->slot_wait == op)
        e->slot_wait = NULL;
    op->next = e->free_ops;
    e->free_ops = op;
}

static void copy_written(void *arg, int rc)
{
    struct cons_copy_op *op = arg;
    struct cons_engine *e = op->e;
    if (rc && !op->rc)
        op->rc = rc;
    if (op->pending && --op->pending)
        return;
    if (op->epoch != e->epoch) {        /* a crash came in between: forget it */
        op_put(e, op);
        return;
    }
    e->copies--;
    e->copy_ios -= op->ios;
    if (op->rc)
        cons_job_fail(e, op->rc, "copy");
    else
        e->res.copied_bytes += op->bytes;
    e->iter_copied += op->bytes;
    if (e->busy)
        for (uint32_t i = 0; i < op->ng; i++)
            vm_bitmap_clear(e->busy, op->g[i]);
    op_put(e, op);
    cons_note_space(e);
    if (e->parked.n)
        cons_guest_unpark(e);
    cons_copy_kick(e);
    cons_maybe_finish(e);
}

/* The target must allocate some grains (a delta target): run by run. */
static void write_runs(struct cons_engine *e, struct cons_copy_op *op)
{
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t nr = cons_chain_cfg(e->ch)->nr_sectors, off = 0;
    op->pending = 1;
    for (uint32_t i = 0, j; i < op->ng; i = j) {
        for (j = i + 1; j < op->ng && op->g[j] == op->g[j - 1] + 1; j++)
            ;
        uint64_t s = op->g[i] * gs, end = (op->g[j - 1] + 1) * gs;
        uint32_t n = (uint32_t)((end > nr ? nr : end) - s);
        op->pending++;
        int rc = cons_chain_write(e->ch, e->cfg.target, s, n, op->fps + off, copy_written, op);
        if (rc) {
            op->pending--;
            if (!op->rc)
                op->rc = rc;
        }
        off += n;
    }
    copy_written(op, 0);                /* the loop's own reference */
}

static void copy_read(void *arg, int rc)
{
    struct cons_copy_op *op = arg;
    struct cons_engine *e = op->e;
    if (op->epoch != e->epoch) {
        op_put(e, op);
        return;
    }
    if (rc) {
        copy_written(op, rc);
        return;
    }
    rc = cons_chain_write_grains(e->ch, e->cfg.target, op->g, op->ng, io_sectors(e), op->fps,
                                 copy_written, op);
    if (rc == VM_ENOTSUP)
        write_runs(e, op);
    else if (rc)
        copy_written(op, rc);       /* not re-entrant: the callback would not run */
}

static struct cons_copy_op *op_get(struct cons_engine *e)
{
    struct cons_copy_op *op = e->free_ops;
    if (op) {
        e->free_ops = op->next;
        return op;
    }
    op = calloc(1, sizeof *op);
    uint64_t sectors = (uint64_t)chunk_grains(e) * cons_chain_grain_sectors(e->ch);
    if (op) {
        op->fps = malloc(sizeof *op->fps * sectors);
        op->g = malloc(sizeof *op->g * chunk_grains(e));
    }
    if (op && (!op->fps || !op->g)) {
        free(op->fps);
        free(op->g);
        free(op);
        return NULL;
    }
    if (op) {
        op->all = e->all_ops;
        e->all_ops = op;
    }
    return op;
}

static bool blocked(const struct cons_engine *e, uint64_t g)
{
    return (e->cfg.method->flags & CONS_F_MIRROR_CHECK) && cons_guest_writes_overlap(e, g, g);
}

/* Mark grain g wanted (guest writes in flight kept the copy off it). */
static void want(struct cons_engine *e, uint64_t g)
{
    if (vm_bitmap_test(e->want, g))
        return;
    vm_bitmap_set(e->want, g);
    if (e->want_n < CONS_WANT_Q)
        e->want_q[e->want_n++] = g;     /* else the cursor's next pass takes it */
}

/* Start op with the wanted grains whose writes are down: at most
 * cg / 4 of them (the cursor fills the rest of the batch, so the bulk copy
 * keeps its pace while writes keep coming), each counted as a run of its
 * own (its I/Os) against budget; they are marked busy at once so the cursor's walk
 * skips them.  The others stay queued.  Grains that left the copy set (a
 * method unmarked them) drop out. */
static void take_wanted(struct cons_engine *e, struct cons_copy_op *op, uint32_t cg,
                        uint32_t budget)
{
    uint32_t keep = 0, max = cg / 4 ? cg / 4 : 1;
    uint32_t gios = run_ios(cons_chain_grain_sectors(e->ch), io_sectors(e));
    for (uint32_t i = 0; i < e->want_n; i++) {
        uint64_t g = e->want_q[i];
        if (!vm_bitmap_test(e->want, g))
            continue;
        if (!vm_bitmap_test(e->copyset, g)) {
            vm_bitmap_clear(e->want, g);
            continue;
        }
        if (op->ng < max && (op->ng == 0 || op->ios + gios <= budget) &&
            !vm_bitmap_test(e->busy, g) &&
            !blocked(e, g)) {
            vm_bitmap_clear(e->want, g);
            vm_bitmap_set(e->busy, g);
            op->g[op->ng++] = g;
            op->ios += gios;
            continue;
        }
        e->want_q[keep++] = g;
    }
    e->want_n = keep;
}

/* Sort op's grains (a batch is one vectored I/O in increasing order) and
 * count its I/Os again (runs of gs-sector grains, I/Os of at most io_sec
 * sectors): wanted grains came first, out of order. */
static void sort_batch(struct cons_copy_op *op, uint32_t gs, uint32_t io_sec)
{
    for (uint32_t i = 1; i < op->ng; i++) {
        uint64_t g = op->g[i];
        uint32_t j = i;
        for (; j > 0 && op->g[j - 1] > g; j--)
            op->g[j] = op->g[j - 1];
        op->g[j] = g;
    }
    op->ios = 0;
    for (uint32_t i = 0, j; i < op->ng; i = j) {
        for (j = i + 1; j < op->ng && op->g[j] == op->g[j - 1] + 1; j++)
            ;
        op->ios += run_ios((uint64_t)(j - i) * gs, io_sec);
    }
}

/* Issue op (its grains leave the copy set and are busy until it ends);
 * false if it could not start (then it is put back; VM_EAGAIN: a grain is
 * being allocated, later). */
static bool op_issue(struct cons_engine *e, struct cons_copy_op *op)
{
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t nr_sectors = cons_chain_cfg(e->ch)->nr_sectors;
    for (uint32_t i = 0; i < op->ng; i++) {
        vm_bitmap_clear(e->copyset, op->g[i]);
        vm_bitmap_set(e->busy, op->g[i]);
        uint64_t s0 = op->g[i] * gs;
        op->bytes += (s0 + gs > nr_sectors ? nr_sectors - s0 : gs) * 4096ull;
    }
    e->copy_left -= op->ng;
    op->e = e;
    op->epoch = e->epoch;
    op->seq = ++e->copy_seq;
    op->live = true;
    e->copies++;
    e->copy_ios += op->ios;
    int rc = cons_chain_read_grains(e->ch, e->src_top, op->g, op->ng, io_sectors(e), op->fps,
                                    copy_read, op);
    if (rc) {
        e->copies--;
        e->copy_ios -= op->ios;
        for (uint32_t i = 0; i < op->ng; i++) {
            vm_bitmap_clear(e->busy, op->g[i]);
            vm_bitmap_set(e->copyset, op->g[i]);
        }
        e->copy_left += op->ng;
        op_put(e, op);
        if (rc != VM_EAGAIN)
            cons_fail(e, rc, "copy read");
        return false;
    }
    return true;
}

static void kicked(struct cons_engine *e);

static struct cons_copy_op *op_new(struct cons_engine *e)
{
    struct cons_copy_op *op = op_get(e);
    if (!op) {
        cons_fail(e, VM_ENOMEM, "copy operation");
        return NULL;
    }
    op->ng = op->ios = 0;
    op->pending = 0;
    op->rc = 0;
    op->bytes = 0;
    return op;
}

/* The oldest op in flight (the first of QEMU's ops_in_flight). */
static struct cons_copy_op *oldest_op(struct cons_engine *e)
{
    struct cons_copy_op *best = NULL;
    for (struct cons_copy_op *op = e->all_ops; op; op = op->all)
        if (op->live && op->epoch == e->epoch && (!best || op->seq < best->seq))
            best = op;
    return best;
}

/* QEMU's mirror_run() loop around mirror_iteration() (see the header). */
static void qemu_kick(struct cons_engine *e)
{
    uint32_t cg = chunk_grains(e), max = e->cfg.mcfg.max_in_flight;
    while (!e->slot_wait) {
        if (e->copies >= max || (!e->copy_left && e->copies)) {
            e->slot_wait = oldest_op(e);    /* mirror_wait_for_free_in_flight_slot() */
            break;
        }
        if (!e->copy_left)
            break;
        /* the first dirty chunk from the iterator (from 0 again at the end:
         * another pass over the bitmap) */
        uint64_t g = vm_bitmap_next_set(e->copyset, e->nr_grains, e->cursor);
        if (g >= e->nr_grains) {
            g = vm_bitmap_next_set(e->copyset, e->nr_grains, 0);
            if (e->wrap)
                e->res.iterations++;
        }
        e->cursor = g;
        /* mirror_wait_on_conflicts(NULL, s, offset, 1): an op in flight on
         * it (a copy, or an active write) - wait for it, looking again as
         * each op ends; the cursor stays */
        if (vm_bitmap_test(e->busy, g) || blocked(e, g))
            break;
        struct cons_copy_op *op = op_new(e);
        if (!op)
            break;
        /* the dirty chunks after it not in flight, up to the largest op */
        op->g[op->ng++] = g;
        op->ios = 1;
        while (op->ng < cg && g + op->ng < e->nr_grains) {
            uint64_t n = g + op->ng;
            if (!vm_bitmap_test(e->copyset, n) || vm_bitmap_test(e->busy, n) || blocked(e, n))
                break;
            op->g[op->ng++] = n;
        }
        e->cursor = g + op->ng;
        if (!op_issue(e, op))
            break;
    }
}

void cons_copy_kick(struct cons_engine *e)
{
    if (!e->copyset || e->down || e->copy_paused || e->copy_depth)
        return;
    if (e->cfg.method->flags & CONS_F_QEMU_COPY) {
        /* QEMU before commit d69a879 ("block/mirror: Do not wait for
         * active writes"): no background copy is issued while an active
         * (guest) write is in flight - mirror_run()'s loop waited
         * `while (s->in_active_write_counter)` before each pass (the
         * hunk the fix removed), and active_write_prepare()
         * counts a write before it waits on conflicts, so a write parked
         * on a copy counts too. */
        if (e->copy_blocked_by_writes &&
            (e->parked.n || cons_guest_writes_overlap(e, 0, UINT64_MAX)))
            return;
        e->copy_depth++;
        qemu_kick(e);
        e->copy_depth--;
        kicked(e);
        return;
    }
    e->copy_depth++;
    uint32_t cg = chunk_grains(e), gs = cons_chain_grain_sectors(e->ch), io = io_sectors(e);
    bool wrapped = false;
    /* a batch starts when half the I/O slots are free (or none is taken):
     * between max_in_flight / 2 and max_in_flight I/Os stay in flight,
     * and a batch is not one I/O each time one ends (a request each).
     * With the ESX defaults (32 I/Os, batches of up to 1 MiB of 64 KiB
     * grains, 64 KiB I/Os) two batches of 16 I/Os are in flight, each
     * reading or writing as the other does: the data mover's continuous
     * queue, its next I/O issued a batch at a time */
    uint32_t max = e->cfg.mcfg.max_in_flight, low = max / 2 ? max / 2 : 1;
    /* a batch whose first grain alone makes more I/Os than there are
     * slots still goes (the copy must move), alone: copy_ios may then
     * exceed max, and no batch starts until it ends */
    while (e->copies < max && e->copy_left &&
           (e->copy_ios == 0 || (e->copy_ios < max && max - e->copy_ios >= low))) {
        struct cons_copy_op *op = op_new(e);
        if (!op)
            break;
        uint32_t budget = e->copy_ios < max ? max - e->copy_ios : 0;
        if (e->want_n)
            take_wanted(e, op, cg, budget);
        uint32_t nr_wanted = op->ng;
        uint64_t run_len = gs;          /* sectors of the batch's last run */
        /* gather set grains from the cursor: at most cg of them, at most
         * budget I/Os; grains busy or with a guest write in flight wait */
        while (op->ng < cg) {
            uint64_t g = vm_bitmap_next_set(e->copyset, e->nr_grains, e->cursor);
            if (g >= e->nr_grains) {
                if (wrapped || e->cursor == 0 || op->ng)
                    break;              /* a batch is in increasing order */
                e->cursor = 0;
                wrapped = true;
                if (e->wrap)
                    e->res.iterations++;    /* another pass over the dirty bitmap */
                continue;
            }
            bool run = op->ng && op->g[op->ng - 1] + 1 == g;
            uint32_t add = grain_ios(run, run_len, gs, io);
            if (op->ng && add && op->ios + add > budget)
                break;
            e->cursor = g + 1;
            if (vm_bitmap_test(e->busy, g))
                continue;               /* the next pass takes it */
            if (blocked(e, g)) {        /* guest writes in flight: once they are down */
                want(e, g);
                continue;
            }
            vm_bitmap_clear(e->want, g);
            op->g[op->ng++] = g;
            op->ios += add;
            run_len = run ? run_len + gs : gs;
        }
        if (!op->ng) {
            op_put(e, op);
            break;
        }
        if (nr_wanted)
            sort_batch(op, gs, io);
        if (!op_issue(e, op))
            break;
    }
    e->copy_depth--;
    kicked(e);
}

/* The copier stopped issuing: writes parked on wanted grains, READY. */
static void kicked(struct cons_engine *e)
{
    if (e->parked.n && e->copies == 0)
        cons_guest_unpark(e);   /* a wanted grain left the set without a copy */
    if (e->copies == 0 && e->copyset && e->copy_left == 0 && e->cfg.method->copy_idle)
        e->cfg.method->copy_idle(e);
}
