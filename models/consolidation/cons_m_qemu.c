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
 *                        the target; the job copies dirty grains, up to
 *                        16 operations of up to 1 MiB in flight, clearing
 *                        a bit when its copy starts; guest writes go to
 *                        the source only and set bits again.  READY when
 *                        no bit is set and nothing is in flight.  The
 *                        management then completes the job (libvirt's
 *                        --pivot does at once): the source is drained
 *                        (the guest's I/O waits), and if the bitmap is
 *                        still clean the job pivots to the target; if
 *                        writes dirtied it meanwhile the drain ends and
 *                        copying goes on (mirror_run()).  Under writes
 *                        faster than the copy it never becomes READY.
 *   qemu-write-blocking  copy-mode=write-blocking (active mirroring, Max
 *                        Reitz, QEMU 3.0; blockdev-mirror only: block-commit
 *                        takes no copy mode, so this row is what a
 *                        consolidation by mirroring to a new image would do):
 *                        every guest write also goes to
 *                        the target synchronously and is acknowledged when
 *                        both are down; a write covering a whole dirty
 *                        grain cleans it; the background copy goes on
 *                        meanwhile, so the job converges whatever the
 *                        guest does.
 *   qemu-write-blocking-unfixed  the same before QEMU commit d69a879
 *                        ("block/mirror: Do not wait for active writes"):
 *                        no background copy is issued while an active
 *                        write is in flight, so under constant guest
 *                        writes the job never converges.
 *
 * The pivot's fixed part (bdrv_drained_begin's bookkeeping, the graph
 * change, reopening the backing chain) has no published figure; 10 ms is
 * an estimate, labelled so; the drain itself is simulated.
 */
#include <stddef.h>

#include "consolidation/cons_int.h"

static const struct vm_param qemu_params[] = {
    { "chunk", VM_PARAM_SIZE, offsetof(struct cons_method_cfg, chunk_bytes), .min = 4096,
      .max = 64 << 20, .def = "1MiB",
      .help = "largest copy operation (buf-size 16 MiB / MAX_IN_FLIGHT 16)" },
    { "max_in_flight", VM_PARAM_U32, offsetof(struct cons_method_cfg, max_in_flight), .min = 1,
      .max = 1024, .def = "16", .help = "copy operations in flight (MAX_IN_FLIGHT)" },
    { "stun_fixed", VM_PARAM_TIME, offsetof(struct cons_method_cfg, stun_fixed_ns), .min = 0,
      .max = 3600e9, .def = "10ms", .help = "fixed part of the pivot (an estimate)" },
    { NULL },
};

enum { Q_COPY, Q_DRAIN, Q_PIVOT };

static void start(struct cons_engine *e)
{
    int top = cons_chain_nr_layers(e->ch) - 1;
    e->phase_state = Q_COPY;
    e->res.iterations++;
    e->copy_blocked_by_writes = e->cfg.method->flags & CONS_F_COPY_WAITS_WRITES;
    cons_copy_begin(e, top, cons_grains_above(e, top), true);
}

static void drained(struct cons_engine *e)
{
    if (cons_copy_left(e) || e->copies) {   /* dirtied while draining: go on */
        e->phase_state = Q_COPY;
        cons_unstun(e);
        cons_copy_kick(e);
        return;
    }
    e->phase_state = Q_PIVOT;
    cons_switch_over(e);
}

static void copy_idle(struct cons_engine *e)
{
    if (e->phase_state != Q_COPY)
        return;
    cons_ready(e);
    e->phase_state = Q_DRAIN;
    cons_stun(e, drained);
}

/* background: the write went to the source; its grains are dirty again */
static void bg_write_done(struct cons_engine *e, struct cons_greq *r)
{
    cons_copy_mark(e, r->g0, r->g1);
}

static void active_write(struct cons_engine *e, struct cons_greq *r)
{
    if (cons_copy_busy(e, r->g0, r->g1)) {
        cons_guest_park(e, r);
        return;
    }
    cons_guest_sub_write(e, r, e->active);
    cons_guest_sub_write(e, r, e->cfg.target);
    r->mirrored = true;
    e->res.mirror_bytes += (uint64_t)r->io.nr * 4096;
}

/* write-blocking: both copies hold the data now; whole grains are clean
 * (do_sync_target_write() resets the bitmap for the aligned part) */
static void active_write_done(struct cons_engine *e, struct cons_greq *r)
{
    if (!r->mirrored)               /* issued before the job: the source only */
        return;
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t end = r->io.sector + r->io.nr;
    for (uint64_t g = r->g0; g <= r->g1; g++)
        if (g * gs >= r->io.sector && (g + 1) * gs <= end)
            cons_copy_unmark(e, g);
}

const struct cons_method cons_m_qemu_bg = {
    .name = "qemu-background",
    .desc = "QEMU mirror/active commit, copy-mode=background: dirty bitmap re-copy, then pivot",
    .params = qemu_params,
    .start = start, .write_done = bg_write_done, .copy_idle = copy_idle,
};

const struct cons_method cons_m_qemu_wb = {
    .name = "qemu-write-blocking",
    .desc = "QEMU blockdev-mirror, copy-mode=write-blocking (active commit has no such mode): writes to both, copy goes on",
    .params = qemu_params, .flags = CONS_F_MIRROR_CHECK,
    .start = start, .write = active_write, .write_done = active_write_done,
    .copy_idle = copy_idle,
};

const struct cons_method cons_m_qemu_wb_unfixed = {
    .name = "qemu-write-blocking-unfixed",
    .desc = "write-blocking before QEMU commit d69a879: no copy while a guest write is in flight",
    .params = qemu_params, .flags = CONS_F_MIRROR_CHECK | CONS_F_COPY_WAITS_WRITES,
    .start = start, .write = active_write, .write_done = active_write_done,
    .copy_idle = copy_idle,
};
