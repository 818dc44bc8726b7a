/*
 * sim_cons.c - one consolidation run point in the simulator (sim_cons.h):
 * the disk, the chain set up in its store, the load, the timers, the
 * engine (models/consolidation/cons.h), and the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_fp.h"
#include "base/vm_fpstore.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "consolidation/cons_int.h"
#include "consolidation/cons_oracle.h"
#include "consolidation/sim_cons.h"
#include "sim_blocktrace.h"
#include "sim_disk.h"
#include "sim_runner.h"
#include "sim_timer.h"
#include "sim_world.h"

/* ------------------------------------------------------------ layout */

int sim_cons_chain_cfg(const struct sim_cons_cfg *c, uint64_t capacity_bytes,
                       struct cons_chain_cfg *out, char *why, size_t len)
{
    uint32_t shift = 0;
    while ((4096ull << shift) < c->grain_bytes)
        shift++;
    uint64_t nr = c->disk_bytes / 4096;
    uint64_t slot = cons_delta_max_blocks(nr, shift);
    if (slot < nr)
        slot = nr;
    slot = (slot + 2047) & ~2047ull;
    if (slot > UINT32_MAX) {
        char vd[32];
        snprintf(why, len, "expected a virtual disk whose delta files stay under 16 TiB (a "
                 "grain table entry holds a 32-bit number of 4 KiB blocks): a %s virtual "
                 "disk with %u KiB grains makes files of %llu blocks; a smaller vdisk.size",
                 vm_units_fmt_size(c->disk_bytes, vd, sizeof vd),
                 (unsigned)(c->grain_bytes >> 10), (unsigned long long)slot);
        return VM_EINVAL;
    }
    uint64_t dev = capacity_bytes / 4096, slot0 = 2048;
    uint64_t slots = dev > slot0 ? (dev - slot0) / slot : 0;
    if (slots > CONS_MAX_LAYERS)
        slots = CONS_MAX_LAYERS;
    /* the base, the deltas, a helper, and one more after a crash (the
     * helper method's restart makes a new helper before it drops the old) */
    uint32_t need = c->deltas + 3;
    if (slots < need) {
        char vd[32], sl[32], all[32], cap[32];
        snprintf(why, len, "expected a virtual disk whose chain fits the platform's disk (%s): "
                 "the base, %u delta%s and two helpers take %u files of up to %s each for a %s "
                 "virtual disk (%s in all), it holds %llu; a smaller vdisk.size or a "
                 "larger disk in the platform", vm_units_fmt_size(capacity_bytes, cap, sizeof cap),
                 c->deltas, c->deltas == 1 ? "" : "s", need,
                 vm_units_fmt_size(slot * 4096, sl, sizeof sl),
                 vm_units_fmt_size(c->disk_bytes, vd, sizeof vd),
                 vm_units_fmt_size((slot0 + need * slot) * 4096, all, sizeof all),
                 (unsigned long long)slots);
        return VM_EINVAL;
    }
    *out = (struct cons_chain_cfg){ .nr_sectors = nr, .grain_shift = shift, .desc_lba = 0,
                                    .slot0_lba = slot0, .slot_blocks = slot,
                                    .nr_slots = (uint32_t)slots };
    return 0;
}

/* ------------------------------------------------------------ set-up */

struct setup {
    struct vm_fpstore *store;
    uint64_t seed;
    uint64_t nr_grains, nr_alloc, start;
    int layout, layer;
};

static int put(void *arg, uint64_t lba, uint64_t n, const uint64_t *fps)
{
    struct setup *s = arg;
    return vm_fpstore_put(s->store, lba, n, fps);
}

static int put_meta(void *arg, uint64_t lba, const void *bytes, uint32_t len)
{
    struct setup *s = arg;
    return vm_fpstore_put_packed(s->store, lba, 1, NULL, 0, bytes, len);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    return vm_fp_page(a, b, 0x6772616eull);
}

/* The i-th grain of the delta being set up: one per stratum of the disk
 * (random layout), or a run from a random start (sequential). */
static uint64_t pick(void *arg, uint64_t i)
{
    struct setup *s = arg;
    if (s->layout == SIM_CONS_SEQUENTIAL)
        return s->start + i;
    double stride = (double)s->nr_grains / (double)s->nr_alloc;
    uint64_t lo = (uint64_t)(stride * (double)i), hi = (uint64_t)(stride * (double)(i + 1));
    if (hi <= lo)
        hi = lo + 1;
    return lo + mix(s->seed + (uint64_t)s->layer, i) % (hi - lo);
}

/* A set-up delta's sector: the guest writes' fingerprint function with a
 * version no guest write reaches (UINT32_MAX - layer), so every delta
 * sector differs from every other and from every guest write
 * (cons_fp_write() is a bijection), at a tenth of XXH3's instructions
 * (a 100 GiB delta's 26 M sectors are fingerprinted at set-up, by the
 * oracle and by the end-of-run check). */
static uint64_t content(void *arg, int layer, uint64_t sector)
{
    const struct setup *s = arg;
    return cons_fp_write(s->seed, sector, UINT32_MAX - (uint32_t)layer);
}

static int peek(void *arg, uint64_t lba, uint64_t n, uint64_t *fps)
{
    return vm_fpstore_peek(arg, lba, n, fps);
}

/* ------------------------------------------------------------ counting port */

/* The disk's port with a count of requests in flight, so the run ends
 * only when no completion can reach freed memory (a crashed host's
 * requests still complete on the device).  Waking an actor is a SimGrid
 * simcall, during which the driver may run: a request is counted before
 * the disk sees it, and until its callback has returned. */
struct cport {
    struct port_blk base;
    struct port_blk *inner;
    uint64_t inflight;
    struct sim_waitq *wq;
};

struct shim {
    port_blk_cb cb;
    void *data;
    struct cport *p;
};

static void shim_cb(struct port_blk_req *req, int rc)
{
    struct shim *sh = req->data;
    struct cport *p = sh->p;
    req->cb = sh->cb;
    req->data = sh->data;
    free(sh);
    req->cb(req, rc);           /* may submit, or free req: p is ours */
    /* the run's actor waits for the last completion only (a wake per
     * request was a semaphore simcall and a context switch each) */
    if (--p->inflight == 0)
        sim_waitq_wake_all(p->wq);
}

static int cport_submit(struct port_blk *dev, struct port_blk_req *req)
{
    struct cport *p = (struct cport *)dev;
    struct shim *sh = malloc(sizeof *sh);
    if (!sh)
        return VM_ENOMEM;
    *sh = (struct shim){ .cb = req->cb, .data = req->data, .p = p };
    req->cb = shim_cb;
    req->data = sh;
    p->inflight++;
    int rc = port_blk_submit(p->inner, req);
    if (rc < 0) {
        p->inflight--;
        req->cb = sh->cb;
        req->data = sh->data;
        free(sh);
    }
    return rc;
}

static uint64_t cport_nr_blocks(const struct port_blk *dev)
{
    const struct cport *p = (const struct cport *)dev;
    return port_blk_nr_blocks(p->inner);
}

static const struct port_blk_ops cport_ops = {
    .version = PORT_BLK_VERSION, .name = "counted", .submit = cport_submit,
    .nr_blocks = cport_nr_blocks,
};

/* ------------------------------------------------------------ the run */

static void wake(void *arg)
{
    sim_waitq_wake_all(arg);
}

static struct cons_load *make_stream(const struct sim_exp *e, const struct sim_cons_cfg *c,
                                     double write_bps, struct sim_outcome *out)
{
    if (c->trace[0]) {
        struct sim_blocktrace bt;
        struct vm_diag d = { 0 };
        if (sim_blocktrace_load(c->trace, c->disk_bytes / 4096, 0, c->align_bytes, &bt, &d)) {
            sim_outcome_fail(out, d.code ? d.code : VM_EINVAL, "%s", d.msg);
            return NULL;
        }
        struct cons_load *l = cons_load_new_trace(bt.ios, bt.nr_ios, c->speed, c->loop, c->qdepth);
        sim_blocktrace_free(&bt);
        return l;
    }
    uint64_t nr = c->disk_bytes / 4096, hot = c->hot_set_bytes ? c->hot_set_bytes / 4096 : nr;
    struct cons_load_cfg lc = {
        .write_bps = write_bps, .read_fraction = c->read_fraction,
        .req_sectors = (uint32_t)(c->request_bytes / 4096), .sequential = c->pattern == 1,
        .hot_sectors = hot, .hot_start = 0, .hot_share = c->hot_set_bytes ? c->hot_share : 1,
        .poisson = c->arrivals == SIM_CONS_ARRIVALS_POISSON, .qdepth = c->qdepth,
    };
    return cons_load_new_synth(&lc, nr, e->seed);
}

/* The guest's stream, closed-loop when the config says so (its times are
 * then unused: any rate above 0 makes the same requests, each choice
 * drawing from a random stream of its own). */
static struct cons_load *make_load(const struct sim_exp *e, const struct sim_cons_cfg *c,
                                   double write_bps, struct sim_outcome *out)
{
    if (c->arrivals == SIM_CONS_ARRIVALS_CLOSED && !(write_bps > 0))
        write_bps = 1.0;
    struct cons_load *l = make_stream(e, c, write_bps, out);
    cons_load_set_closed(l, c->arrivals == SIM_CONS_ARRIVALS_CLOSED);
    return l;
}

static void report(const struct cons_result *r, struct sim_outcome *o)
{
    sim_outcome_set(o, SIM_CONS_M_TOTAL, (double)r->total_ns);
    if (r->ready)
        sim_outcome_set(o, SIM_CONS_M_READY, (double)r->ready_ns);
    sim_outcome_set(o, SIM_CONS_M_STUN_MAX, (double)r->stun_max_ns);
    sim_outcome_set(o, SIM_CONS_M_STUN_TOTAL, (double)r->stun_total_ns);
    sim_outcome_set(o, SIM_CONS_M_STUNS, (double)r->stuns);
    sim_outcome_set(o, SIM_CONS_M_ITERATIONS, (double)r->iterations);
    sim_outcome_set(o, SIM_CONS_M_CONVERGED, r->done ? 1 : 0);
    sim_outcome_set(o, SIM_CONS_M_DELTA, (double)r->delta_bytes);
    if (r->delta_bytes)
        sim_outcome_set(o, SIM_CONS_M_COPY_RATIO, (double)r->copied_bytes / (double)r->delta_bytes);
    sim_outcome_set(o, SIM_CONS_M_MIRROR, (double)r->mirror_bytes);
    sim_outcome_set(o, SIM_CONS_M_PEAK_DELTA, (double)r->peak_delta_bytes);
    sim_outcome_set(o, SIM_CONS_M_LEFT, (double)r->left_bytes);
    sim_outcome_set(o, SIM_CONS_M_JOB_FAILED, r->job_failed ? 1 : 0);
    sim_outcome_set(o, SIM_CONS_M_IO_ERRORS, (double)r->io_errors);
    if (r->job_failed)
        snprintf(o->detail, sizeof o->detail, "{\"job_error\": \"%s\"}", r->job_error);
    static const int lat[CONS_NR_PHASES][3] = {
        { SIM_CONS_M_W50_BEFORE, SIM_CONS_M_W99_BEFORE, SIM_CONS_M_W999_BEFORE },
        { SIM_CONS_M_W50_DURING, SIM_CONS_M_W99_DURING, SIM_CONS_M_W999_DURING },
        { SIM_CONS_M_W50_AFTER, SIM_CONS_M_W99_AFTER, SIM_CONS_M_W999_AFTER },
    };
    static const int tput[CONS_NR_PHASES] = { SIM_CONS_M_TPUT_BEFORE, SIM_CONS_M_TPUT_DURING,
                                              SIM_CONS_M_TPUT_AFTER };
    for (int ph = 0; ph < CONS_NR_PHASES; ph++) {
        const struct vm_hist *h = &r->write_lat[ph];
        if (h->count) {
            sim_outcome_set(o, lat[ph][0], (double)vm_hist_quantile(h, 0.5));
            sim_outcome_set(o, lat[ph][1], (double)vm_hist_quantile(h, 0.99));
            sim_outcome_set(o, lat[ph][2], (double)vm_hist_quantile(h, 0.999));
        }
        if (r->phase_ns[ph])
            sim_outcome_set(o, tput[ph], (double)r->write_bytes[ph] * 1e9 /
                                         (double)r->phase_ns[ph]);
    }
    if (r->write_lat[CONS_DURING].count)
        sim_outcome_set(o, SIM_CONS_M_WMAX_DURING, (double)r->write_lat[CONS_DURING].max);
    if (r->read_lat[CONS_DURING].count)
        sim_outcome_set(o, SIM_CONS_M_R99_DURING,
                        (double)vm_hist_quantile(&r->read_lat[CONS_DURING], 0.99));
    sim_outcome_set(o, SIM_CONS_M_GUEST_WRITES, (double)r->guest_writes);
    sim_outcome_set(o, SIM_CONS_M_CRASHES, (double)r->crashes);
    if (r->crashes)
        sim_outcome_set(o, SIM_CONS_M_RECOVERY, (double)r->recovery_ns);
    o->inv[SIM_CONS_INV_FINAL_CHECKED] = r->final_checked;
    o->inv[SIM_CONS_INV_FINAL_MISMATCH] = r->final_mismatch;
    o->inv[SIM_CONS_INV_READ_CHECKED] = r->read_checked;
    o->inv[SIM_CONS_INV_READ_MISMATCH] = r->read_mismatch;
    o->inv[SIM_CONS_INV_READ_SKIPPED] = r->read_skipped;
    o->inv[SIM_CONS_INV_CRASH_CHECKED] = r->crash_checked;
    o->inv[SIM_CONS_INV_LOST_WRITES] = r->lost_writes;
    o->inv[SIM_CONS_INV_OPEN_ERRORS] = r->open_errors;
    if (r->rc)
        sim_outcome_fail(o, r->rc, "%s", r->error);
}

void sim_cons_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out)
{
    const struct sim_cons_cfg *c = e->mech_cfg;
    const struct cons_method *m = cons_method_find(e->policy);
    struct vm_diag d = { 0 };
    struct sim_disk *disk = NULL;
    struct port_timer *timer = NULL;
    struct sim_waitq *wq = NULL;
    struct cons_chain *ch = NULL;
    struct cons_engine *eng = NULL;
    struct cport cp = { .base.ops = &cport_ops };
    char why[512];

    if (!m) {
        sim_outcome_fail(out, VM_EINVAL, "no consolidation method '%s'", e->policy);
        return;
    }
    /* the store keeps a grain's fingerprints together: the copy writes
     * grains scattered over the base, one leaf each */
    unsigned leaf = 3;
    while ((4096ull << leaf) < c->grain_bytes && leaf < 9)
        leaf++;
    if (!(disk = sim_disk_open_leaf(host, e->disk, leaf, &d))) {
        sim_outcome_fail(out, d.code, "%s", d.msg);
        return;
    }
    /* a grain the copy moves, or a guest write the mirror sends to the
     * delta and the target, is the same leaf twice: kept once */
    if (vm_fpstore_share(sim_disk_store(disk))) {
        sim_outcome_fail(out, VM_ENOMEM, "disk store");
        goto out;
    }
    for (int i = 0; i < e->nr_faults; i++)
        if (e->faults[i].kind == SIM_FAULT_DISK_ERROR || e->faults[i].kind == SIM_FAULT_DISK_SLOW)
            sim_disk_add_fault(disk, &e->faults[i]);
    struct cons_chain_cfg ccfg;
    if (sim_cons_chain_cfg(c, sim_disk_props(disk)->capacity_bytes, &ccfg, why, sizeof why)) {
        sim_outcome_fail(out, VM_EINVAL, "%s", why);
        goto out;
    }
    ccfg.mutation = m->mutation;
    cp.inner = sim_disk_port(disk);
    if (!(wq = sim_waitq_new()) || !(timer = sim_timer_new(host))) {
        sim_outcome_fail(out, VM_ENOMEM, "waitq/timer");
        goto out;
    }
    cp.wq = wq;
    if (!(ch = cons_chain_new(&cp.base, &ccfg))) {
        sim_outcome_fail(out, VM_ENOMEM, "chain");
        goto out;
    }
    struct setup su_arg = { .store = sim_disk_store(disk), .seed = e->seed,
                            .nr_grains = cons_chain_nr_grains(ch) };
    struct cons_setup su = { .put = put, .put_meta = put_meta, .arg = &su_arg };
    uint64_t grain = c->grain_bytes;
    for (uint32_t k = 1; k <= c->deltas; k++) {
        su_arg.layer = (int)k;
        su_arg.layout = c->layout;
        su_arg.nr_alloc = c->delta_sizes[k - 1] / grain;   /* chain.disks, or delta_size */
        su_arg.start = su_arg.nr_grains > su_arg.nr_alloc
                           ? mix(e->seed, k) % (su_arg.nr_grains - su_arg.nr_alloc + 1) : 0;
        int rc = cons_chain_setup_delta(ch, &su, su_arg.nr_alloc, pick, content, &su_arg);
        if (rc) {
            sim_outcome_fail(out, rc, "setting up delta %u: %s", k, cons_chain_error(ch));
            goto out;
        }
    }
    if (cons_chain_setup_desc(ch, &su)) {
        sim_outcome_fail(out, VM_EIO, "setting up the descriptor");
        goto out;
    }
    double bw = sim_disk_props(disk)->write_bps;
    double lambda = c->write_rate > 0 ? c->write_rate : c->write_ratio * bw;
    struct cons_load *load = make_load(e, c, lambda, out);
    if (!load) {
        if (!out->rc)
            sim_outcome_fail(out, VM_ENOMEM, "load");
        goto out;
    }
    struct cons_engine_cfg ec = {
        .method = m, .mcfg = *(const struct cons_method_cfg *)e->policy_cfg,
        .target = c->target == SIM_CONS_BASE ? 0 : (int)c->deltas - 1,
        .before_ns = c->before_ns, .after_ns = c->after_ns, .timeout_ns = c->timeout_ns,
        .seed = e->seed,
    };
    const struct sim_disk_props *dp = sim_disk_props(disk);
    ec.mcfg.dev = (struct cons_device){ .copy_bps = sim_disk_copy_bps(dp),
                                        .read_bps = dp->read_bps, .write_bps = dp->write_bps,
                                        .read_lat_ns = dp->read_lat_ns,
                                        .write_lat_ns = dp->write_lat_ns,
                                        .qdepth = dp->qdepth,
                                        .requests = sim_disk_concurrency(dp),
                                        .iops = dp->iops };
    for (int i = 0; i < e->nr_faults; i++)
        if (e->faults[i].kind == SIM_FAULT_HOST_CRASH)   /* one at most (the check) */
            ec.crash = sim_exp_host_crash(e, i, &ec.crash_at_ns, &ec.restart_ns) == 0;
    struct cons_ports ports = { .blk = &cp.base, .clock = sim_world_clock(), .timer = timer,
                                .finished = wake, .arg = wq };
    struct cons_peek pk = { .get = peek, .arg = sim_disk_store(disk) };
    eng = cons_engine_new(&ec, &ports, &pk, ch, content, &su_arg, load);
    if (!eng) {
        cons_load_free(load);
        sim_outcome_fail(out, VM_ENOMEM, "engine");
        goto out;
    }
    ch = NULL;                          /* the engine's now */
    cons_engine_start(eng);
    /* woken by the engine's `finished` callback (wake), then by the
     * counting port when its last request completes (shim_cb) */
    while (!cons_engine_finished(eng))
        sim_waitq_wait(wq);
    while (cp.inflight)
        sim_waitq_wait(wq);
    struct cons_result res;
    cons_engine_result(eng, &res);
    report(&res, out);
    /* the outcome is final: a forked run point ends here, without
     * freeing the disk (its 64 workers and the disk activities SimGrid
     * keeps for each until it hands over), the store or the engine */
    sim_runner_point_done(out);
out:
    cons_engine_free(eng);
    cons_chain_free(ch);
    if (timer)
        sim_timer_free(timer);
    if (wq)
        sim_waitq_free(wq);
    sim_disk_close(disk);
}
