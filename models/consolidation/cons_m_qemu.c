/*
 * cons_m_qemu.c - QEMU's mirror job as active block commit uses it
 * (`virsh blockcommit --active --pivot`, always copy-mode=background) and
 * as a mirror to a new image uses it (`blockdev-mirror` with copy-mode,
 * libvirt's `blockcopy --synchronous-writes` for write-blocking);
 * block/mirror.c:
 *
 *   qemu-background      copy-mode=background (the default): a dirty
 *                        bitmap at the granularity (the grain: 64 KiB,
 *                        qcow2's cluster) starts with every grain above
 *                        the target; the job copies dirty grains with
 *                        QEMU's own copier (cons_copy.c: one op per
 *                        extent of up to 1 MiB, 16 in flight, a new op as
 *                        a slot frees, a wait rather than a skip on a
 *                        conflict), clearing a bit when its copy starts;
 *                        guest writes go to the source only and set bits
 *                        again.  Once nothing is dirty nor in flight,
 *                        mirror_flush() flushes the target (the job's
 *                        coroutine waits: no copy meanwhile) and the job
 *                        is READY.  The management then completes it
 *                        (libvirt's --pivot sends block-job-complete on
 *                        the READY event; taken as immediate here, the
 *                        QMP round trip is not modelled): with the
 *                        bitmap clean the source is drained (the guest's
 *                        I/O waits), and if the bitmap is still clean the
 *                        target is flushed again and the job pivots; if
 *                        writes dirtied it meanwhile the drain ends and
 *                        copying goes on (mirror_run()).  Under writes
 *                        faster than the copy it never becomes READY.
 *   qemu-write-blocking  copy-mode=write-blocking (active mirroring, Max
 *                        Reitz, QEMU 3.0) on the commit's copy set (the
 *                        delta's grains into the base): a hypothetical
 *                        configuration - QEMU takes the mode on
 *                        blockdev-mirror only, block-commit takes no copy
 *                        mode (commit_active_start() starts the mirror in
 *                        background mode), and a blockdev-mirror of the
 *                        chain to a new image (sync=full) would copy all
 *                        its allocated data, not the delta alone:
 *                        a guest write waits for the copies in flight on
 *                        its range (mirror_wait_on_conflicts()), goes to
 *                        the source, and once that is down to the target
 *                        (bdrv_mirror_top_do_write(), do_sync_target_write():
 *                        an unaligned head or tail in a dirty grain is left
 *                        to the copy, the whole grains written are clean);
 *                        it is acknowledged when the target is down.  The
 *                        background copy goes on meanwhile, so the job
 *                        converges whatever the guest writes - as long as
 *                        the copy gets some of the disk's bandwidth (a
 *                        guest that saturates the device can still hold
 *                        it off).
 *   qemu-write-blocking-unfixed  the same before QEMU commit d69a879
 *                        ("block/mirror: Do not wait for active writes"):
 *                        no background copy is issued while an active
 *                        write is in flight or waiting on a copy
 *                        (in_active_write_counter), so under constant guest
 *                        writes the job never converges.
 *
 * The pivot's fixed part (the graph change in mirror_exit_common(),
 * reopening the backing chain) has no published figure; 10 ms is an
 * estimate, labelled so, charged only on the drain that pivots; the drain
 * and the flushes are simulated (a flush request on the chain's device:
 * sim_disk's flush_lat, the write latency when the platform names none).
 */
#include <stddef.h>

#include "base/vm_err.h"
#include "consolidation/cons_int.h"

static const struct vm_param qemu_params[] = {
    { "chunk", VM_PARAM_SIZE, offsetof(struct cons_method_cfg, chunk_bytes), .min = 4096,
      .max = 64 << 20, .def = "1MiB",
      .help = "largest copy operation (buf-size 16 MiB / MAX_IN_FLIGHT 16)" },
    { "max_in_flight", VM_PARAM_U32, offsetof(struct cons_method_cfg, max_in_flight), .min = 1,
      .max = 1024, .def = "16", .help = "copy operations in flight (MAX_IN_FLIGHT)" },
    { "stun_fixed", VM_PARAM_TIME, offsetof(struct cons_method_cfg, stun_fixed_ns), .min = 0,
      .max = 3600e9, .def = "10ms",
      .help = "fixed part of the pivot, once it pivots (an estimate)" },
    { NULL },
};

enum { Q_COPY, Q_FLUSH, Q_DRAIN, Q_PIVOT };

static void start(struct cons_engine *e)
{
    int top = cons_chain_nr_layers(e->ch) - 1;
    e->phase_state = Q_COPY;
    e->res.iterations++;
    e->copy_blocked_by_writes = e->cfg.method->flags & CONS_F_COPY_WAITS_WRITES;
    cons_copy_begin(e, top, cons_grains_above(e, top), true);
}

/* The job's coroutine goes on with mirror_run()'s loop: copying again. */
static void resume(struct cons_engine *e)
{
    e->phase_state = Q_COPY;
    e->copy_paused = false;
    cons_copy_kick(e);
}

/* mirror_flush(): blk_flush() of the target; the job's coroutine waits
 * for it, so no copy is issued meanwhile (the guest's writes go on unless
 * drained).  The disk is the chain's: one flush request on the device. */
static void flush_target(struct cons_engine *e, void (*then)(struct cons_engine *e, int rc))
{
    void *g;
    cons_done_fn cb = cons_guard(e, then, &g);
    int rc = cb ? cons_chain_flush(e->ch, cb, g) : VM_ENOMEM;
    if (rc)
        cons_fail(e, rc, "target flush");
}

static void pivot(struct cons_engine *e)
{
    e->phase_state = Q_PIVOT;
    cons_switch_over(e);
}

/* The flush in the drained section is down: the pivot, with its fixed
 * part (bdrv_replace_node() etc. in mirror_exit_common(); an estimate). */
static void pivot_flushed(struct cons_engine *e, int rc)
{
    if (rc) {
        cons_job_fail(e, rc, "target flush");
        return;
    }
    if (e->res.rc || e->phase_state != Q_DRAIN)
        return;
    cons_stun(e, pivot);            /* drained already: only the fixed part */
}

/* mirror_run(): drained; if the bitmap is dirty again the drain ends and
 * copying goes on (no fixed part charged: nothing pivoted); else
 * mirror_flush() of the target, then the pivot. */
static void drained(struct cons_engine *e)
{
    if (cons_copy_left(e) || e->copies) {
        cons_unstun(e);
        resume(e);
        return;
    }
    flush_target(e, pivot_flushed);
}

/* The flush before READY is down: READY; libvirt's --pivot completes the
 * job (should_complete); if writes dirtied the bitmap meanwhile,
 * mirror_run() copies on and drains only once it is clean again.  A
 * simplification: the completion is taken to follow READY at once, where
 * libvirt sends block-job-complete only after it gets the
 * BLOCK_JOB_READY event (one QMP round trip, not modelled: the copy
 * would go on meanwhile). */
static void ready_flushed(struct cons_engine *e, int rc)
{
    if (rc) {
        cons_job_fail(e, rc, "target flush");
        return;
    }
    if (e->res.rc || !e->job_running || e->phase_state != Q_FLUSH)
        return;
    cons_ready(e);
    if (cons_copy_left(e) || e->copies) {
        resume(e);
        return;
    }
    e->phase_state = Q_DRAIN;
    cons_stun_fixed(e, 0, drained);     /* bdrv_drained_begin(): the guest's I/O */
}

/* in_flight == 0 and the bitmap clean (mirror_run()) */
static void copy_idle(struct cons_engine *e)
{
    if (e->phase_state != Q_COPY)
        return;
    e->copy_paused = true;              /* the job's coroutine is busy */
    if (!e->res.ready) {
        e->phase_state = Q_FLUSH;
        flush_target(e, ready_flushed);
        return;
    }
    e->phase_state = Q_DRAIN;
    cons_stun_fixed(e, 0, drained);
}

/* background: the write went to the source; its grains are dirty again */
static void bg_write_done(struct cons_engine *e, struct cons_greq *r)
{
    cons_copy_mark(e, r->g0, r->g1);
}

/* write-blocking: the source write is down (bdrv_mirror_top_do_write());
 * do_sync_target_write() drops an unaligned head or tail that falls in a
 * dirty grain (the background copy will take the grain whole: so a write
 * inside one dirty grain goes to the source only), resets the dirty bits
 * of the whole grains left, then writes them to the target; the guest's
 * write is acknowledged when that is down.  A failed source write goes
 * no further. */
static void active_src_done(void *arg, int rc)
{
    struct cons_greq *r = arg;
    struct cons_engine *e = r->e;
    if (rc || r->epoch != e->epoch) {
        cons_guest_sub_done(e, r, rc);
        return;
    }
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t s = r->io.sector, end = s + r->io.nr;
    if (s % gs && cons_copy_dirty(e, s / gs))
        s = (s / gs + 1) * gs;
    if (end % gs && end > s && cons_copy_dirty(e, end / gs))
        end = end / gs * gs;
    if (end > s) {
        for (uint64_t g = (s + gs - 1) / gs; (g + 1) * gs <= end; g++)
            cons_copy_unmark(e, g);
        /* do_sync_target_write(): a failed target write is the job's
         * error (mirror_error_action(); "report" by default: the job
         * fails), the guest's write has its source's result */
        cons_guest_sub_mirror(e, r, e->cfg.target, s, (uint32_t)(end - s));
        e->res.mirror_bytes += (end - s) * 4096;
    }
    cons_guest_sub_done(e, r, 0);
}

/* write-blocking: active_write_prepare() waits for the ops in flight on
 * the write's range (mirror_wait_on_conflicts()), then the source, then
 * the target (bdrv_mirror_top_do_write()). */
static void active_write(struct cons_engine *e, struct cons_greq *r)
{
    if (cons_copy_busy(e, r->g0, r->g1)) {
        cons_guest_park(e, r);
        return;
    }
    r->mirrored = true;
    r->pending++;
    int rc = cons_chain_write(e->ch, e->active, r->io.sector, r->io.nr, r->fps,
                              active_src_done, r);
    if (rc) {
        cons_fail(e, rc, "submit");
        cons_guest_sub_done(e, r, rc);
    }
}

const struct cons_method cons_m_qemu_bg = {
    .name = "qemu-background",
    .desc = "QEMU mirror/active commit, copy-mode=background: dirty bitmap re-copy, then pivot",
    .params = qemu_params, .flags = CONS_F_QEMU_COPY, .stun_kind = CONS_STUN_DRAIN,
    .start = start, .write_done = bg_write_done, .copy_idle = copy_idle,
};

const struct cons_method cons_m_qemu_wb = {
    .name = "qemu-write-blocking",
    .desc = "QEMU blockdev-mirror, copy-mode=write-blocking (active commit has no such mode): writes to both, copy goes on",
    .params = qemu_params, .flags = CONS_F_MIRROR_CHECK | CONS_F_QEMU_COPY,
    .stun_kind = CONS_STUN_DRAIN,
    .start = start, .write = active_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_qemu_wb_unfixed = {
    .name = "qemu-write-blocking-unfixed",
    .desc = "write-blocking before QEMU commit d69a879: no copy while a guest write is in flight",
    .params = qemu_params,
    .flags = CONS_F_MIRROR_CHECK | CONS_F_COPY_WAITS_WRITES | CONS_F_QEMU_COPY,
    .stun_kind = CONS_STUN_DRAIN,
    .start = start, .write = active_write, .copy_idle = copy_idle,
};
