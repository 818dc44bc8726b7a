/*
 * sim_ckpt.c - the checkpoint mechanism's driver (see sim_ckpt.h): the world, stuns,
 * exits, costs and the save; the restore run is in sim_ckpt_restore.c.
 *
 * Actors: the driver (this file: stuns, runs the policy's background
 * step loop, verifies), one vCPU (sim_vcpu.c) and the disk's workers
 * (sim_disk.c).  The policy counts its work; the driver charges it as
 * time: page copies and compression on the guest's fault path are charged
 * to the vCPU (they stall the guest), the background saver's to the
 * driver.  A cost is charged by sleeping, so after a sleep the driver and
 * the vCPU call the policy again instead of waiting: a completion that
 * arrived during the sleep must not be waited for.
 *
 * Invariants checked in every run:
 *  - image: after a save, every page's saved fingerprint equals the
 *    page's content at the checkpoint instant (sim_mem's checker logs the
 *    old content of pages written after the instant);
 *  - a failed save leaves no valid header;
 *  - restore: every page the guest accesses, and every page present at
 *    the end, holds the image's content, whatever made it present (pages
 *    made absent hold a poison fingerprint until installed); when the
 *    policy says done, every page is present;
 *  - no guest access runs while the VM is stunned: from the moment
 *    sim_vcpu_stun() returns to sim_vcpu_resume() the driver holds the VM
 *    stopped, and the vCPU counts every access it applies meanwhile
 *    (sim_vcpu.h); the count does not trust the vCPU's own flag.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>
#include <xbt/log.h>

#include "base/vm_bitmap.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/sim_ckpt.h"
#include "checkpoint/sim_ckpt_int.h"
#include "sim_content.h"
#include "sim_disk.h"
#include "sim_mem.h"
#include "sim_trace.h"
#include "sim_vcpus.h"
#include "sim_workload.h"
#include "sim_world.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_ckpt, vmsim, "checkpoint experiment driver");


void ckpt_set_metric(struct sim_outcome *o, enum sim_ckpt_metric id, double v)
{
    sim_outcome_set(o, id, v);
}

/*
 * fmt has two %s: what failed, then the error's text.  The first failure
 * sets the record's rc; later ones (a restore that fails on an image the
 * image check already refused) are appended to its error text, so the
 * record says everything that went wrong, in order.
 */
void ckpt_fail(struct ckpt_run *r, int rc, const char *fmt, const char *what)
{
    char msg[sizeof r->out->error];
    snprintf(msg, sizeof msg, fmt, what, vm_strerror(rc));
    struct sim_outcome *o = r->out;
    if (!o->rc) {
        sim_outcome_fail(o, rc, "%s", msg);
        return;
    }
    size_t len = strlen(o->error), room = sizeof o->error - len;
    if (room > 3) {
        size_t n = strnlen(msg, room - 3);
        memcpy(o->error + len, "; ", 2);
        memcpy(o->error + len + 2, msg, n);
        o->error[len + 2 + n] = '\0';
    }
}

static void io_notify(void *arg)
{
    sim_waitq_wake_all(arg);
}

static uint64_t ns_for_bytes(uint64_t bytes, double bps)
{
    return bps > 0 ? (uint64_t)llround((double)bytes * 1e9 / bps) : 0;
}

/*
 * Time for the work counted since the last charge: `pages` page copies or
 * installs at page_ns each and `bytes` through a codec at bps.  *mark_pages
 * and *mark_bytes remember what was already charged, so each unit of work
 * is paid once, by whoever looks first.
 */
static uint64_t charge(uint64_t *mark_pages, uint64_t pages, uint64_t page_ns,
                       uint64_t *mark_bytes, uint64_t bytes, double bps)
{
    uint64_t ns = (pages - *mark_pages) * page_ns + ns_for_bytes(bytes - *mark_bytes, bps);
    *mark_pages = pages;
    *mark_bytes = bytes;
    return ns;
}

/* `count` units of work at unit_ns each, counted since the last charge:
 * zero pages found (a full scan each: the test of a non-zero page stops
 * at its first non-zero word, so it is not charged), stream write()s,
 * un-protects. */
static uint64_t charge_each(uint64_t *mark, uint64_t count, uint64_t unit_ns)
{
    uint64_t no_bytes = 0;
    return charge(mark, count, unit_ns, &no_bytes, 0, 0);
}

/* Copies, compression, zero scans and stream write()s on the guest's
 * fault path (they stall the guest); the fault's own un-protect is in
 * trace_fault, the round trip it was measured as. */
static uint64_t charge_fault_path(struct ckpt_run *r, const struct ckpt_stats *st)
{
    const struct sim_ckpt_costs *c = &r->cfg->costs;
    uint64_t ns = charge(&r->charged.pages_copied_fault, st->pages_copied_fault, c->page_copy_ns,
                         &r->charged.compress_in_fault, st->compress_in_fault, c->compress_bps);
    ns += charge_each(&r->charged.zero_pages_fault, st->zero_pages_fault, c->zero_scan_ns);
    return ns + charge_each(&r->charged.stream_writes_fault, st->stream_writes_fault,
                            c->stream_write_ns);
}

/* Copies, compression, zero scans, stream write()s and un-protects by the
 * background saver, and the waits of a bandwidth limit. */
static uint64_t charge_background(struct ckpt_run *r, const struct ckpt_stats *st)
{
    const struct sim_ckpt_costs *c = &r->cfg->costs;
    uint64_t ns = charge(&r->charged.pages_copied_bg, st->pages_copied_bg, c->page_copy_ns,
                         &r->charged.compress_in_bg, st->compress_in_bg, c->compress_bps);
    ns += st->rate_wait_ns - r->charged.rate_wait_ns;
    r->charged.rate_wait_ns = st->rate_wait_ns;
    ns += charge_each(&r->charged.zero_pages_bg, st->zero_pages_bg, c->zero_scan_ns);
    ns += charge_each(&r->charged.stream_writes_bg, st->stream_writes_bg, c->stream_write_ns);
    return ns + charge_each(&r->charged.unprotects_bg, st->unprotects_bg, c->unprotect_ns);
}

/* Restore installs happen in completion callbacks; whoever runs next pays. */
uint64_t ckpt_charge_installs(struct ckpt_run *r, const struct ckpt_stats *st)
{
    return charge(&r->charged.pages_installed, st->pages_installed, r->cfg->costs.page_install_ns,
                  &r->charged.decompress_out, st->decompress_out, r->cfg->costs.decompress_bps);
}

static void stun(struct ckpt_run *r)
{
    if (r->stunned)
        return;
    sim_vcpus_stun(&r->vcpus);
    r->stunned = true;
    r->stun_began_ns = sim_now_ns();
}

static void unstun(struct ckpt_run *r)
{
    if (!r->stunned)
        return;
    uint64_t len = sim_now_ns() - r->stun_began_ns;
    r->stun_total_ns += len;
    if (len > r->stun_max_ns)
        r->stun_max_ns = len;
    r->stunned = false;
    sim_vcpus_resume(&r->vcpus);
}

/*
 * A fault of a CKPT_F_SERIAL_FAULTS policy, served (rc not VM_EAGAIN) with
 * `work_ns` of copies and writes: the time it waits for the one thread
 * that serves faults.  The thread serves it from the vCPU's own clock on
 * (the simulated time plus what the vCPU has not slept yet), or from when
 * it is free, for the work plus the un-protect that resumes the vCPU (the
 * thread's side of the round trip: at most trace_fault).  FIFO in the
 * order the vCPUs reach it; with one vCPU a fault never finds it busy (the
 * previous fault's whole cost lies between them), so nothing changes.
 */
static uint64_t serial_wait(struct ckpt_exit *x, uint64_t work_ns)
{
    struct ckpt_run *r = x->r;
    const struct sim_ckpt_costs *c = &r->cfg->costs;
    uint64_t at = sim_now_ns() + sim_vcpu_ahead_ns(x->v);
    uint64_t start = at > r->fault_server_free_ns ? at : r->fault_server_free_ns;
    uint64_t unprotect = c->unprotect_ns < c->trace_fault_ns ? c->unprotect_ns : c->trace_fault_ns;
    r->fault_server_free_ns = start + work_ns + unprotect;
    return start - at;
}

/*
 * A vCPU exit: call the policy's fault handler and add the cost of its
 * work plus, once per exit (not per retry), the exit itself to *cost_ns;
 * the vCPU sleeps it (sim_vcpu.c), so the exits of several vCPUs overlap.
 * The handler's bookkeeping runs under a lock (none with one vCPU): a port
 * call inside it lets other actors run, and another vCPU's exit must not
 * enter the policy then, nor pay for this exit's copies.  The lock takes
 * no simulated time: the work is charged after it, outside.
 */
static int handle_exit(struct ckpt_exit *x, uint64_t gpa, bool is_write, uint64_t *cost_ns)
{
    struct ckpt_run *r = x->r;
    int rc;
    uint64_t ns;
    if (r->fault_wq) {
        while (r->in_fault)
            sim_waitq_wait(r->fault_wq);
        r->in_fault = true;
    }
    if (r->rest) {
        rc = r->rp->fault(r->rest, gpa);
        ns = ckpt_charge_installs(r, r->rp->stats(r->rest));
    } else {
        rc = r->sp->fault(r->save, gpa, is_write);
        ns = charge_fault_path(r, r->sp->stats(r->save));
        if ((r->sp->flags & CKPT_F_SERIAL_FAULTS) && rc != VM_EAGAIN)
            ns += serial_wait(x, ns);
    }
    if (r->fault_wq) {
        r->in_fault = false;
        sim_waitq_wake_all(r->fault_wq);
    }
    if (!x->retrying)
        ns += r->cfg->costs.trace_fault_ns;
    /* an exit waits once however often it asks again (the policy
     * counts every VM_EAGAIN answer) */
    if (rc == VM_EAGAIN && !x->retrying)
        r->fault_waits++;
    x->retrying = rc == VM_EAGAIN;
    *cost_ns += ns;
    return rc;
}

/* vCPU exit during a save: only traced pages exit. */
static int save_fault_hook(void *arg, uint64_t gpa, bool is_write, int kind, uint64_t *cost_ns)
{
    return kind == SIM_MEM_FAULT_TRACE ? handle_exit(arg, gpa, is_write, cost_ns) : VM_EINVAL;
}

/* vCPU exit during a restore: only absent pages exit. */
int ckpt_restore_fault_hook(void *arg, uint64_t gpa, bool is_write, int kind,
                              uint64_t *cost_ns)
{
    return kind == SIM_MEM_FAULT_ABSENT ? handle_exit(arg, gpa, is_write, cost_ns) : VM_EINVAL;
}

/* Point every vCPU's exits at fn (NULL: none), each with its own state. */
void ckpt_set_hooks(struct ckpt_run *r, sim_vcpu_fault_fn fn)
{
    for (uint32_t i = 0; i < r->vcpus.n; i++) {
        r->exits[i] = (struct ckpt_exit){ .r = r, .v = r->vcpus.v[i] };
        r->vcpus.v[i]->on_fault = fn;
        r->vcpus.v[i]->fault_arg = fn ? &r->exits[i] : NULL;
    }
}

static void expected_instant(void *arg, const uint64_t *pages, uint64_t first, uint64_t n,
                             uint64_t *fps)
{
    if (pages)
        sim_mem_instant_pages(arg, pages, n, fps);
    else
        sim_mem_instant_range(arg, first, n, fps);
}

/* One share of the image check, on a thread of its own. */
struct verify_part {
    const struct ckpt_image *img;
    const struct vm_fpstore *st;
    struct sim_mem *mem;
    uint32_t part, nr_parts;
    struct ckpt_verify_counts counts;
};

static void *verify_part_main(void *arg)
{
    struct verify_part *vp = arg;
    ckpt_image_verify_part(vp->img, vp->st, expected_instant, vp->mem, vp->part, vp->nr_parts,
                           &vp->counts);
    return NULL;
}

/*
 * Compare every page of the image with the instant's content, in two
 * halves at once: the check takes no simulated time, and on a large
 * guest it is seconds of memory-bound work (a 1 TiB image has 268 M
 * pages), so the second half runs on a thread while this one does the
 * first.  The halves only read memory, the image and the store (the
 * checker's log is sorted before they start); without a thread both run
 * here, one after the other.
 */
static void verify_pages(struct ckpt_run *r, const struct ckpt_image *img, uint64_t *checked,
                         uint64_t *mismatch, uint64_t *missing)
{
    enum { PARTS = 2 };
    struct verify_part vp[PARTS];
    for (uint32_t k = 0; k < PARTS; k++)
        vp[k] = (struct verify_part){ .img = img, .st = sim_disk_store(r->disk), .mem = r->mem,
                                      .part = k, .nr_parts = PARTS };
    sim_mem_checker_sort(r->mem);
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, verify_part_main, &vp[1]) == 0;
    verify_part_main(&vp[0]);
    if (threaded)
        pthread_join(t, NULL);
    else
        verify_part_main(&vp[1]);
    struct ckpt_verify_counts counts[PARTS] = { vp[0].counts, vp[1].counts };
    ckpt_image_verify_finish(img, counts, PARTS, checked, mismatch, missing);
}

/* Check the image on the device against the memory at the instant. */
static void verify_image(struct ckpt_run *r, int save_rc)
{
    struct sim_outcome *o = r->out;
    struct vm_diag d;
    struct ckpt_image *img = NULL;
    vm_diag_clear(&d);
    int rc = ckpt_image_load_store(sim_disk_store(r->disk), &img, &d);
    if (save_rc < 0) {
        o->inv[SIM_CKPT_INV_SAVE_FAILED]++;
        if (rc == 0)
            o->inv[SIM_CKPT_INV_FAILED_SAVE_VALID]++;
        ckpt_image_free(img);
        return;
    }
    if (rc < 0) {
        /* nothing of the image can be read back: every page is missing,
         * and the record says why in the decoder's words */
        o->inv[SIM_CKPT_INV_IMAGE_MISSING] += r->mem->nr_pages;
        ckpt_fail(r, rc, "image check: the saved image does not load: %s (%s)",
             d.code ? d.msg : "no reason given");
        return;
    }
    uint64_t checked = 0, mismatch = 0, missing = 0;
    verify_pages(r, img, &checked, &mismatch, &missing);
    o->inv[SIM_CKPT_INV_IMAGE_PAGES_CHECKED] += checked;
    o->inv[SIM_CKPT_INV_IMAGE_MISMATCH] += mismatch;
    o->inv[SIM_CKPT_INV_IMAGE_MISSING] += missing;
    ckpt_image_free(img);
}

struct file_sync {
    bool done;
    int rc;
};

static void file_synced(struct port_blk_req *req, int rc)
{
    struct file_sync *fs = req->data;
    fs->rc = rc;
    fs->done = true;
}

/* fdatasync() the checkpoint file: wait until the page cache has written
 * every dirty block and the disk has flushed (libvirt's iohelper does this
 * before it reports a save done).  A failed sync fails the save, and the
 * file is deleted (libvirt unlinks a failed save image): its header goes.
 * 0 or the error. */
static int file_sync(struct ckpt_run *r)
{
    struct file_sync fs = { 0 };
    struct port_blk_req req = { .op = PORT_BLK_FLUSH, .cb = file_synced, .data = &fs };
    int rc = port_blk_submit(r->env.file, &req);
    if (rc < 0)
        fs = (struct file_sync){ .done = true, .rc = rc };
    while (!fs.done)
        sim_waitq_wait(r->io_wq);
    if (fs.rc < 0) {
        uint64_t deleted = SIM_CKPT_DELETED_FP;
        vm_fpstore_put(sim_disk_store(r->disk), CKPT_HEADER_LBA, 1, &deleted);
    }
    return fs.rc;
}

void ckpt_record_hist(struct sim_outcome *o, const struct vm_hist *h, enum sim_ckpt_metric p50,
                        enum sim_ckpt_metric p99, enum sim_ckpt_metric p999, enum sim_ckpt_metric max)
{
    if (!h->count)
        return;
    ckpt_set_metric(o, p50, (double)vm_hist_quantile(h, 0.5));
    ckpt_set_metric(o, p99, (double)vm_hist_quantile(h, 0.99));
    ckpt_set_metric(o, p999, (double)vm_hist_quantile(h, 0.999));
    ckpt_set_metric(o, max, (double)h->max);
}

/*
 * One save with policy sp and cfg, the guest running.  Returns the
 * policy's final rc.  With `report`, fills the save metrics.
 */
/*
 * The background saver, on `channels` threads (QEMU's multifd channels):
 * each calls step() and pays for the work it counted since the last
 * charge by sleeping, so C savers do C times the CPU work in parallel
 * while sharing the disk.  step() itself runs under a lock: a port call
 * inside it (a submit) lets other actors run, and two savers must not be
 * inside the policy's bookkeeping at once, as threads would hold a lock
 * around it and copy outside it.  Channel 0 is the driver itself, and a
 * save with one channel creates no lock, so it runs exactly as before.
 */
struct saver {
    struct ckpt_run *r;
    const struct ckpt_policy *sp;
    bool done;                          /* a saver saw DONE or an error */
    int rc;                             /* what it saw */
    uint64_t t_done;                    /* when it had paid for its last work */
    uint32_t live;                      /* savers still in their loop */
    struct sim_waitq *done_wq;          /* the last saver out wakes the driver */
    bool stepping;                      /* a saver is inside step() */
    struct sim_waitq *step_wq;          /* savers waiting for it (NULL: one saver) */
};

/* step() under the savers' lock (none with one saver). */
static int locked_step(struct saver *sv)
{
    if (!sv->step_wq)
        return sv->sp->step(sv->r->save);
    while (sv->stepping)
        sim_waitq_wait(sv->step_wq);
    if (sv->done)
        return CKPT_STEP_WAIT;          /* another saver finished while this one waited */
    sv->stepping = true;
    int rc = sv->sp->step(sv->r->save);
    sv->stepping = false;
    sim_waitq_wake_all(sv->step_wq);
    return rc;
}

static void saver_loop(struct saver *sv)
{
    struct ckpt_run *r = sv->r;
    const struct ckpt_policy *sp = sv->sp;
    while (!sv->done) {
        uint64_t ticket = sim_waitq_ticket(r->io_wq);   /* step() submits: a wake may come meanwhile */
        int rc = locked_step(sv);
        if (sv->done && !(rc < 0 || rc == CKPT_STEP_DONE))
            break;                      /* another saver finished */
        sim_vcpus_set_throttle(&r->vcpus, sp->stats(r->save)->throttle_pct);
        uint64_t ns = charge_background(r, sp->stats(r->save));
        bool last = rc < 0 || rc == CKPT_STEP_DONE;
        if (last) {
            sv->done = true;            /* the other savers stop stepping */
            sv->rc = rc;
        }
        if (ns)
            sim_sleep_ns(ns);
        if (last) {
            sv->t_done = sim_now_ns();
            break;
        }
        if (sv->done)
            break;
        if (rc == CKPT_STEP_STUN) {
            stun(r);
            if (sp->flags & CKPT_F_INSTANT_AT_STUN)
                sim_mem_checker_arm(r->mem);
            /* a live start saved no device state: it goes in this stop
             * (QEMU saves it after the last RAM pass, in the same stop) */
            if (sp->flags & CKPT_F_LIVE_START)
                sim_sleep_ns(r->cfg->costs.device_state_ns);
        } else if (rc == CKPT_STEP_WAIT && !ns) {
            sim_waitq_wait_ticket(r->io_wq, ticket);
        }
    }
    if (--sv->live == 0 && sv->done_wq)
        sim_waitq_wake_all(sv->done_wq);
}

static void saver_actor(int argc, char **argv)
{
    saver_loop(sg_actor_self_get_data());
}

/* Saver threads: the policy's channels, at most the host's cores. */
static uint32_t save_channels(const struct ckpt_run *r, const struct ckpt_cfg *cfg)
{
    uint32_t want = cfg->channels ? cfg->channels : 1;
    uint32_t cores = (uint32_t)sg_host_core_count(r->host);
    return want < cores ? want : cores ? cores : 1;
}

/* The file's allocated and apparent sizes, counted on a thread of their
 * own while the image is checked: both only read the store, and the count
 * is a pass over the whole device's block map (0.4 s at 1 TiB). */
struct file_sizes {
    const struct vm_fpstore *st;
    uint64_t allocated, end;            /* in blocks */
};

static void *count_file(void *arg)
{
    struct file_sizes *fs = arg;
    fs->allocated = vm_fpstore_blocks_used(fs->st, &fs->end);
    return NULL;
}

int ckpt_run_save(struct ckpt_run *r, const struct ckpt_policy *sp,
                    const struct ckpt_cfg *asked, bool report)
{
    const struct sim_exp *exp = r->exp;
    struct file_sizes sizes = { 0 };
    pthread_t counter;
    bool counting = false;
    struct sim_outcome *o = r->out;
    struct sim_vcpus *vs = &r->vcpus;
    struct vm_diag d;
    vm_diag_clear(&d);

    /* the policy sees the channels it gets (it may size its requests by
     * them), not the ones asked for */
    struct ckpt_cfg cfg_got = *asked;
    cfg_got.channels = save_channels(r, asked);
    const struct ckpt_cfg *cfg = &cfg_got;

    r->sp = sp;
    if (r->pc)
        sim_pagecache_set_copy_cost(r->pc, sp->flags & CKPT_F_CHARGES_WRITES
                                           ? 0 : r->cfg->costs.stream_write_ns);
    memset(&r->charged, 0, sizeof(r->charged));
    ckpt_set_hooks(r, NULL);
    r->fault_waits = 0;
    r->fault_server_free_ns = 0;
    r->stun_total_ns = r->stun_max_ns = 0;

    const struct sim_disk_stats *ds = sim_disk_stats(r->disk);
    uint64_t dev_ios0 = ds->write_ios, dev_bytes0 = ds->write_bytes;
    /* a live start (pre-copy) does not stop the VM: start() runs between
     * two guest accesses, as the actors are cooperative */
    bool live_start = sp->flags & CKPT_F_LIVE_START;
    if (!live_start)
        stun(r);
    uint64_t t_start = live_start ? sim_now_ns() : r->stun_began_ns;
    if (!(sp->flags & CKPT_F_INSTANT_AT_STUN))
        sim_mem_checker_arm(r->mem);
    int rc = sp->start(cfg, &r->env, &r->save, &d);
    if (rc < 0) {
        ckpt_fail(r, rc, "save policy start failed: %s (%s)", d.code ? d.msg : sp->name);
        unstun(r);
        return rc;
    }
    ckpt_set_hooks(r, save_fault_hook);

    /* arming write tracking / the dirty log over all of memory for the
     * policies that let the guest run: in the start stun with device
     * state, or, for a live start, the saver's own time while the guest
     * runs (device state then goes in the final stop, saver_loop) */
    uint64_t arm_ns = r->cfg->costs.trace_arm_ns * r->mem->nr_pages;
    if (live_start) {
        sim_sleep_ns(arm_ns);
    } else {
        sim_sleep_ns(r->cfg->costs.device_state_ns +
                     (sp->flags & CKPT_F_STUN_ALL ? 0 : arm_ns));
        if (!(sp->flags & CKPT_F_STUN_ALL))
            unstun(r);
    }

    struct sim_vcpus_totals t0, t1;
    sim_vcpus_totals(vs, &t0);
    struct vm_hist exits0;
    sim_vcpus_take_exit_hist(vs, &exits0);

    uint32_t channels = cfg->channels;
    struct saver sv = { .r = r, .sp = sp, .live = channels,
                        .done_wq = channels > 1 ? sim_waitq_new() : NULL,
                        .step_wq = channels > 1 ? sim_waitq_new() : NULL };
    for (uint32_t i = 1; i < channels && sv.done_wq; i++) {
        sg_actor_t a = sg_actor_init("saver", r->host);
        sg_actor_set_data(a, &sv);
        sg_actor_start(a, saver_actor, 0, NULL);
    }
    saver_loop(&sv);                    /* channel 0 is this actor */
    while (sv.live > 0)
        sim_waitq_wait(sv.done_wq);
    if (sv.done_wq)
        sim_waitq_free(sv.done_wq);
    if (sv.step_wq)
        sim_waitq_free(sv.step_wq);
    rc = sv.rc;
    uint64_t t_done = sv.t_done;
    sim_vcpus_set_throttle(vs, 0);
    if (sp->flags & CKPT_F_INSTANT_AT_STUN && !r->mem->ck_armed)
        sim_mem_checker_arm(r->mem);   /* failed before its stop: nothing to compare */
    /* durable: the page cache's dirty data written back, the disk flushed.
     * A save that ends with the VM stopped keeps it stopped through the
     * sync when sync_paused (libvirt: qemuMigrationSrcToFile waits for its
     * iohelper, which fdatasync()s, before the domain resumes). */
    uint64_t t_written = t_done;
    bool paused_sync = r->stunned && r->cfg->sync_paused;
    if (!paused_sync)
        unstun(r);
    if (rc >= 0 && r->cfg->fsync) {
        int frc = file_sync(r);
        t_done = sim_now_ns();
        if (frc < 0)
            rc = frc;               /* a failed save, as a policy's own I/O error is */
    }
    unstun(r);
    /* the guest's slowdown over the save, and the sync when it stays stopped */
    uint64_t window_end = paused_sync ? t_done : t_written;

    if (report) {
        const struct ckpt_stats *st = sp->stats(r->save);
        uint64_t window = window_end - t_start;
        sim_vcpus_totals(vs, &t1);
        /* vCPU time lost over vCPU time in the window: each vCPU loses
         * its stalls and throttle, and every stun */
        uint64_t stall = t1.stall_ns - t0.stall_ns, throttle = t1.throttle_ns - t0.throttle_ns;
        double vcpus = (double)vs->n;
        ckpt_set_metric(o, SIM_CKPT_M_COMPLETION_NS, (double)(t_done - t_start));
        ckpt_set_metric(o, SIM_CKPT_M_SYNC_NS, (double)(t_done - t_written));
        ckpt_set_metric(o, SIM_CKPT_M_SAVE_CHANNELS, (double)channels);
        ckpt_set_metric(o, SIM_CKPT_M_STUN_MAX_NS, (double)r->stun_max_ns);
        ckpt_set_metric(o, SIM_CKPT_M_STUN_TOTAL_NS, (double)r->stun_total_ns);
        ckpt_set_metric(o, SIM_CKPT_M_GUEST_STALL_NS, (double)stall);
        ckpt_set_metric(o, SIM_CKPT_M_GUEST_SLOWDOWN_PCT,
                   window ? 100.0 * ((double)(stall + throttle) +
                                     vcpus * (double)r->stun_total_ns) /
                            (vcpus * (double)window) : 0);
        ckpt_set_metric(o, SIM_CKPT_M_GUEST_ACCESSES, (double)(t1.raw_accesses - t0.raw_accesses));
        ckpt_set_metric(o, SIM_CKPT_M_FAULTS, (double)st->faults);
        ckpt_set_metric(o, SIM_CKPT_M_FAULT_WAITS, (double)r->fault_waits);
        struct vm_hist exits;
        vm_hist_init(&exits);
        sim_vcpus_exit_hist(vs, &exits);
        ckpt_record_hist(o, &exits, SIM_CKPT_M_FAULT_P50_NS, SIM_CKPT_M_FAULT_P99_NS,
                    SIM_CKPT_M_FAULT_P999_NS, SIM_CKPT_M_FAULT_MAX_NS);
        /* device I/Os: after the page cache merged what it could */
        uint64_t dev_ios = ds->write_ios - dev_ios0, dev_bytes = ds->write_bytes - dev_bytes0;
        ckpt_set_metric(o, SIM_CKPT_M_WRITE_IOS, (double)dev_ios);
        ckpt_set_metric(o, SIM_CKPT_M_WRITE_IO_MEAN_BYTES,
                   dev_ios ? (double)dev_bytes / (double)dev_ios : 0);
        if (r->pc)
            ckpt_set_metric(o, SIM_CKPT_M_DIRTY_MAX_BYTES,
                       (double)sim_pagecache_stats(r->pc)->dirty_max_bytes);
        ckpt_set_metric(o, SIM_CKPT_M_BYTES_WRITTEN, (double)st->bytes_written);
        sizes.st = sim_disk_store(r->disk);
        counting = pthread_create(&counter, NULL, count_file, &sizes) == 0;
        if (!counting)
            count_file(&sizes);
        ckpt_set_metric(o, SIM_CKPT_M_ZERO_PAGES, (double)st->zero_pages);
        ckpt_set_metric(o, SIM_CKPT_M_PAYLOAD_BYTES, (double)st->payload_bytes);
        ckpt_set_metric(o, SIM_CKPT_M_STAGING_BYTES_MAX, (double)st->staging_bytes_max);
        ckpt_record_hist(o, &ds->write_lat_ns, SIM_CKPT_M_WRITE_P50_NS, SIM_CKPT_M_WRITE_P99_NS,
                    SIM_CKPT_M_WRITE_P999_NS, SIM_CKPT_M_WRITE_MAX_NS);
        if (st->rounds) {
            ckpt_set_metric(o, SIM_CKPT_M_ROUNDS, (double)st->rounds);
            ckpt_set_metric(o, SIM_CKPT_M_PAGES_REWRITTEN, (double)st->pages_rewritten);
            ckpt_set_metric(o, SIM_CKPT_M_FORCED_STOP, st->forced_stop ? 1 : 0);
            ckpt_set_metric(o, SIM_CKPT_M_GUEST_THROTTLE_NS, (double)throttle);
            ckpt_set_metric(o, SIM_CKPT_M_THROTTLE_MAX_PCT, (double)st->throttle_max_pct);
        }
    }
    sim_vcpus_restore_exit_hist(vs, &exits0);
    ckpt_set_hooks(r, NULL);
    /* the policy's own maps go before the image check loads the image's
     * (both are a few bytes per block: 400 MiB together at 1 TiB); the
     * check takes no simulated time, so the order changes nothing else */
    sp->destroy(r->save);
    r->save = NULL;
    verify_image(r, rc);
    if (counting)
        pthread_join(counter, NULL);
    if (report) {
        ckpt_set_metric(r->out, SIM_CKPT_M_FILE_SIZE_BYTES, (double)sizes.end * VM_PAGE_SIZE);
        ckpt_set_metric(r->out, SIM_CKPT_M_FILE_ALLOCATED_BYTES,
                        (double)sizes.allocated * VM_PAGE_SIZE);
    }
    /* a save may fail cleanly when the experiment injects disk faults;
     * otherwise a failure is the run's error (the image check reports
     * only on a save that succeeded, so no message changes places) */
    if (rc < 0 && !report)
        ckpt_fail(r, rc, "the save before the restore failed: %s (%s)", sp->name);
    else if (rc < 0 && exp->nr_faults == 0)
        ckpt_fail(r, rc, "the save failed: %s (%s)", sp->name);
    return rc;
}


void sim_ckpt_run(const struct sim_exp *exp, sg_host_t host, struct sim_outcome *out)
{
    struct ckpt_run run = { .exp = exp, .host = host, .cfg = exp->mech_cfg, .out = out };
    struct ckpt_run *r = &run;
    struct vm_diag d;
    vm_diag_clear(&d);

    int rc = sim_content_init(&d);
    if (rc == 0)
        rc = sim_mem_new(&r->cfg->vm, exp->seed, &r->mem, &d);
    if (rc == 0 && !(r->disk = sim_disk_open(host, exp->disk, &d)))
        rc = d.code ? d.code : VM_EINVAL;
    r->io_wq = sim_waitq_new();
    if (rc == 0 && !r->io_wq)
        rc = vm_diag_set(&d, VM_ENOMEM, "out of memory");
    if (rc == 0)
        rc = sim_vcpus_new(&r->vcpus, &r->cfg->vm, &r->cfg->workload, r->mem, exp->seed,
                           r->io_wq, &d);
    if (rc == 0 && !(r->exits = calloc(r->vcpus.n, sizeof *r->exits)))
        rc = vm_diag_set(&d, VM_ENOMEM, "out of memory");
    if (rc == 0 && r->vcpus.n > 1 && !(r->fault_wq = sim_waitq_new()))
        rc = vm_diag_set(&d, VM_ENOMEM, "out of memory");
    /* the disk's faults; the mechanism takes no others (fault_kinds) */
    for (int i = 0; rc == 0 && i < exp->nr_faults; i++)
        if (SIM_FAULT_BIT(exp->faults[i].kind) & SIM_FAULT_DISK_KINDS)
            rc = sim_disk_add_fault(r->disk, &exp->faults[i]);
    if (rc < 0) {
        ckpt_fail(r, rc, "%s (%s)", d.code ? d.msg : "setting up the world");
        goto out;
    }
    sim_disk_set_notify(r->disk, io_notify, r->io_wq);
    uint64_t host_memory = 0;
    struct sim_pagecache_cfg pcfg;
    char why[200];
    rc = sim_world_host_memory(host, &host_memory, &d);
    int cached = rc ? rc : sim_ckpt_page_cache(r->cfg, host_memory, &pcfg, why, sizeof why);
    if (cached < 0) {
        ckpt_fail(r, cached, "the checkpoint file's page cache: %s (%s)", rc ? d.msg : why);
        goto out;
    }
    if (cached > 0) {
        /* a write() copies into the cache at the calibrated 4 KiB write */
        pcfg.copy_ns_per_block = r->cfg->costs.stream_write_ns;
        if (!(r->pc = sim_pagecache_new(r->disk, host, &pcfg, &d))) {
            ckpt_fail(r, d.code, "the checkpoint file's page cache: %s (%s)", d.msg);
            goto out;
        }
        sim_pagecache_set_notify(r->pc, io_notify, r->io_wq);
    }
    r->env.mem = &r->mem->base;
    r->env.file = r->pc ? sim_pagecache_port(r->pc) : sim_disk_port(r->disk);
    r->env.clock = sim_world_clock();

    sim_vcpus_start(&r->vcpus, host);
    sim_sleep_ns(r->cfg->warmup_ns);      /* the guest runs before the checkpoint */

    if (r->cfg->restore_phase) {
        r->rp = ckpt_restore_policy_find(exp->policy);
        if (!r->rp)
            ckpt_fail(r, VM_EINVAL, "unknown restore policy '%s' (%s)", exp->policy);
        else
            ckpt_run_restore(r);
    } else {
        const struct ckpt_policy *sp = ckpt_save_policy_find(exp->policy);
        if (!sp)
            ckpt_fail(r, VM_EINVAL, "unknown save policy '%s' (%s)", exp->policy);
        else
            ckpt_run_save(r, sp, (const struct ckpt_cfg *)exp->policy_cfg, true);
    }
    sim_vcpus_stop(&r->vcpus);    /* also those that exited on their own: joins them */
    struct sim_vcpus_totals t;
    sim_vcpus_totals(&r->vcpus, &t);
    out->inv[SIM_CKPT_INV_STUNNED_WRITES] += t.stunned_accesses;
    for (uint32_t i = 0; i < r->vcpus.n; i++)
        if (r->vcpus.v[i]->error)
            out->inv[SIM_CKPT_INV_VCPU_ERRORS]++;
    if (sim_vcpus_error(&r->vcpus))
        ckpt_fail(r, sim_vcpus_error(&r->vcpus), "a vCPU stopped: %s (%s)", "guest access failed");
out:
    sim_vcpus_free(&r->vcpus);
    free(r->exits);
    if (r->fault_wq)
        sim_waitq_free(r->fault_wq);
    sim_pagecache_close(r->pc);
    if (r->disk)
        sim_disk_close(r->disk);
    if (r->io_wq)
        sim_waitq_free(r->io_wq);
    sim_mem_free(r->mem);
}
