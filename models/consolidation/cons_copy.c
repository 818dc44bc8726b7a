/*
 * cons_copy.c - the grain copier every method drives: walk the copy set
 * (a bitmap of grains: the deltas' grains, or QEMU's dirty bitmap) from a
 * cursor, copy runs of set grains of up to chunk_bytes as one read
 * through the source view and one write into the target, max_in_flight
 * at a time (QEMU's mirror: granularity 64 KiB, copies of up to 1 MiB,
 * 16 in flight; MAX_IN_FLIGHT in block/mirror.c).
 *
 * A grain's bit is cleared when its copy starts (so a guest write that
 * sets it again is copied again, as QEMU's dirty bitmap works) and the
 * grain is marked busy until the copy's write is down.  Methods that
 * mirror guest writes (CONS_F_MIRROR_CHECK) never let a copy and a guest
 * write of the same grain overlap: a copy does not start on a grain with
 * a guest write in flight (it waits for the write), and the methods park
 * a guest write that meets a busy grain (cons_guest_park) until the copy
 * is done - otherwise the copy could write the grain's old data over the
 * mirrored write (the race US10956041's mirror must avoid; QEMU's
 * mirror_wait_on_conflicts()).
 */
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "consolidation/cons_int.h"

struct cons_copy_op {
    struct cons_engine *e;
    uint32_t epoch;
    uint64_t g0;
    uint32_t ng;
    uint64_t s;
    uint32_t n;
    uint64_t *fps;
    struct cons_copy_op *next;      /* free list */
    struct cons_copy_op *all;       /* every op the engine made */
};

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
    if (!e->busy) {
        cons_fail(e, VM_ENOMEM, "copy bitmap");
        return;
    }
    e->copy_left = vm_bitmap_count(copyset, e->nr_grains);
    e->cursor = 0;
    e->wrap = wrap;
    e->copy_paused = false;
    cons_copy_kick(e);
}

void cons_copy_end(struct cons_engine *e)
{
    vm_bitmap_free(e->copyset);
    vm_bitmap_free(e->busy);
    e->copyset = e->busy = NULL;
}

void cons_copy_free_ops(struct cons_engine *e)
{
    while (e->all_ops) {
        struct cons_copy_op *op = e->all_ops;
        e->all_ops = op->all;
        free(op->fps);
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

void cons_copy_unmark(struct cons_engine *e, uint64_t g)
{
    if (e->copyset && vm_bitmap_test(e->copyset, g)) {
        vm_bitmap_clear(e->copyset, g);
        e->copy_left--;
    }
}

bool cons_copy_busy(const struct cons_engine *e, uint64_t g0, uint64_t g1)
{
    if (!e->busy || !e->copies)
        return false;
    for (uint64_t g = g0; g <= g1 && g < e->nr_grains; g++)
        if (vm_bitmap_test(e->busy, g))
            return true;
    return false;
}

static void op_put(struct cons_engine *e, struct cons_copy_op *op)
{
    op->next = e->free_ops;
    e->free_ops = op;
}

static void copy_written(void *arg, int rc)
{
    struct cons_copy_op *op = arg;
    struct cons_engine *e = op->e;
    if (op->epoch != e->epoch) {        /* a crash came in between: forget it */
        op_put(e, op);
        return;
    }
    e->copies--;
    if (rc)
        cons_fail(e, rc, "copy write");
    else
        e->res.copied_bytes += (uint64_t)op->n * 4096;
    e->iter_copied += (uint64_t)op->n * 4096;
    if (e->busy)
        vm_bitmap_clear_range(e->busy, op->g0, op->ng);
    op_put(e, op);
    cons_note_space(e);
    if (e->parked.n)
        cons_guest_unpark(e);
    cons_copy_kick(e);
    cons_maybe_finish(e);
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
    rc = cons_chain_write(e->ch, e->cfg.target, op->s, op->n, op->fps, copy_written, op);
    if (rc)
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
    if (op)
        op->fps = malloc(sizeof *op->fps * sectors);
    if (op && !op->fps) {
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

void cons_copy_kick(struct cons_engine *e)
{
    if (!e->copyset || e->down || e->copy_paused || e->copy_depth)
        return;
    /* QEMU before commit d69a879 ("block/mirror: Do not wait for active
     * writes"): no background copy is issued while an active (guest)
     * write is in flight. */
    if (e->copy_blocked_by_writes && cons_guest_writes_overlap(e, 0, UINT64_MAX))
        return;
    e->copy_depth++;
    uint32_t cg = chunk_grains(e), gs = cons_chain_grain_sectors(e->ch);
    uint64_t nr_sectors = cons_chain_cfg(e->ch)->nr_sectors;
    bool wrapped = false;
    while (e->copies < e->cfg.mcfg.max_in_flight) {
        uint64_t g = vm_bitmap_next_set(e->copyset, e->nr_grains, e->cursor);
        if (g >= e->nr_grains) {
            if (wrapped || e->cursor == 0 || e->copy_left == 0)
                break;
            e->cursor = 0;
            wrapped = true;
            if (e->wrap)
                e->res.iterations++;    /* another pass over the dirty bitmap */
            continue;
        }
        if (blocked(e, g) || cons_copy_busy(e, g, g))
            break;                      /* wait for that write (or copy) to end */
        uint32_t n = 1;
        while (n < cg && g + n < e->nr_grains && vm_bitmap_test(e->copyset, g + n) &&
               !blocked(e, g + n) && !vm_bitmap_test(e->busy, g + n))
            n++;
        struct cons_copy_op *op = op_get(e);
        if (!op) {
            cons_fail(e, VM_ENOMEM, "copy operation");
            break;
        }
        vm_bitmap_clear_range(e->copyset, g, n);
        e->copy_left -= n;
        vm_bitmap_set_range(e->busy, g, n);
        e->cursor = g + n;
        op->e = e;
        op->epoch = e->epoch;
        op->g0 = g;
        op->ng = n;
        op->s = g * gs;
        uint64_t end = (g + n) * gs;
        op->n = (uint32_t)((end > nr_sectors ? nr_sectors : end) - op->s);
        e->copies++;
        int rc = cons_chain_read(e->ch, e->src_top, op->s, op->n, op->fps, copy_read, op);
        if (rc) {
            e->copies--;
            vm_bitmap_clear_range(e->busy, g, n);
            vm_bitmap_set_range(e->copyset, g, n);
            e->copy_left += n;
            op_put(e, op);
            cons_fail(e, rc, "copy read");
            break;
        }
    }
    e->copy_depth--;
    if (e->copies == 0 && e->copyset && e->copy_left == 0 && e->cfg.method->copy_idle)
        e->cfg.method->copy_idle(e);
}
