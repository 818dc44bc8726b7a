/*
 * cons_engine.c - one VM's run: warm-up load, the consolidation job, the
 * load after it; stuns and the switch-over; a host crash, the restart and
 * the recovery from the device; the invariant checks (cons.h).
 *
 * The run's shape on the clock:
 *   0 .. before          load only (phase "before")
 *   job start .. end     the method works (phase "during"), stuns included
 *   end .. end + after   load only (phase "after"), then the load stops,
 *                        what is in flight completes, and the run is over.
 * A crash (at crash_at) stops everything the host was doing: timers die
 * with it (each carries the epoch it was armed in), queued guest requests
 * are lost, requests in flight may or may not land.  After restart_ns the
 * host reopens the chain from the device alone (cons_chain_open), checks
 * that every acknowledged write is still there, and starts the job again
 * on the chain it found (the methods restart from scratch: none of them
 * keeps a durable progress log; the copy into the target is idempotent).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "consolidation/cons_int.h"

/* ------------------------------------------------------------ time */

uint64_t cons_now(const struct cons_engine *e)
{
    return port_clock_now_ns(e->p.clock);
}

int cons_phase_now(const struct cons_engine *e)
{
    if (!e->job_start && !e->job_running)
        return CONS_BEFORE;
    if (!e->job_end)
        return CONS_DURING;
    return CONS_AFTER;
}

/* A timer of the engine's: on e->arms until it runs (or the engine is
 * freed and cancels it). */
struct cons_arm {
    struct cons_engine *e;
    uint32_t epoch;
    uint64_t id;
    void (*fn)(struct cons_engine *e);
    struct cons_arm *prev, *next;
};

static void arm_unlink(struct cons_engine *e, struct cons_arm *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        e->arms = a->next;
    if (a->next)
        a->next->prev = a->prev;
}

static void timer_cb(void *arg)
{
    struct cons_arm *a = arg;
    struct cons_engine *e = a->e;
    void (*fn)(struct cons_engine *) = a->fn;
    bool live = a->epoch == e->epoch;
    arm_unlink(e, a);
    free(a);
    if (live)
        fn(e);
}

void cons_arm(struct cons_engine *e, uint64_t when, void (*fn)(struct cons_engine *e))
{
    struct cons_arm *a = malloc(sizeof *a);
    if (!a) {
        cons_fail(e, VM_ENOMEM, "timer");
        return;
    }
    *a = (struct cons_arm){ .e = e, .epoch = e->epoch, .fn = fn, .next = e->arms };
    if (e->arms)
        e->arms->prev = a;
    e->arms = a;
    a->id = port_timer_arm(e->p.timer, when, timer_cb, a);
    if (!a->id) {
        arm_unlink(e, a);
        free(a);
        cons_fail(e, VM_ENOMEM, "timer");
    }
}

/* A chain callback that belongs to this epoch: after a crash the dead
 * chain may still report what the device finished; nobody listens. */
struct cons_guard {
    struct cons_engine *e;
    uint32_t epoch, job_gen;
    void (*fn)(struct cons_engine *e, int rc);
    struct cons_guard *prev, *next;
};

static void guard_cb(void *arg, int rc)
{
    struct cons_guard *g = arg;
    struct cons_engine *e = g->e;
    void (*fn)(struct cons_engine *, int) = g->fn;
    bool live = g->epoch == e->epoch && g->job_gen == e->job_gen;
    if (g->prev)
        g->prev->next = g->next;
    else
        e->guards = g->next;
    if (g->next)
        g->next->prev = g->prev;
    free(g);
    if (live)
        fn(e, rc);
}

cons_done_fn cons_guard(struct cons_engine *e, void (*fn)(struct cons_engine *e, int rc),
                        void **arg)
{
    struct cons_guard *g = calloc(1, sizeof *g);
    *arg = g;
    if (!g)
        return NULL;
    *g = (struct cons_guard){ .e = e, .epoch = e->epoch, .job_gen = e->job_gen, .fn = fn,
                              .next = e->guards };
    if (e->guards)
        e->guards->prev = g;
    e->guards = g;
    return guard_cb;
}

/* The first error ends the run: no more arrivals, no more copies; what is
 * in flight completes, then the run is over with rc set. */
void cons_fail(struct cons_engine *e, int rc, const char *what)
{
    if (e->res.rc)
        return;
    e->res.rc = rc;
    snprintf(e->res.error, sizeof e->res.error, "%s: %s%s%s", what, vm_strerror(rc),
             e->ch && cons_chain_error(e->ch)[0] ? ": " : "",
             e->ch ? cons_chain_error(e->ch) : "");
    e->load_stopped = true;
    e->copy_paused = true;
    e->job_running = false;
    while (e->queued.head) {            /* never issued: dropped */
        struct cons_greq *r = e->queued.head;
        cons_glist_del(&e->queued, r);
        cons_glist_add(&e->orphans, r);
    }
    cons_maybe_finish(e);
}

void cons_note_space(struct cons_engine *e)
{
    if (!e->ch)
        return;
    uint64_t b = cons_chain_delta_bytes(e->ch);
    if (b > e->res.peak_delta_bytes)
        e->res.peak_delta_bytes = b;
}

/* ------------------------------------------------------------ finish */

static void stun_over(struct cons_engine *e, bool guest_sees);

static void set_finished(struct cons_engine *e)
{
    if (e->finished)
        return;
    if (e->stunned)
        stun_over(e, true);         /* a failed run ends stunned: the stun ends here */
    e->finished = true;
    if (e->p.finished)
        e->p.finished(e->p.arg);
}

void cons_maybe_finish(struct cons_engine *e)
{
    if (e->finished || e->down || e->reopening)
        return;
    bool job_over = e->job_done || e->timed_out || e->gave_up || e->failed || e->res.rc;
    if (job_over && e->load_stopped && !e->queued.n && !e->inflight.n &&
        (!e->parked.n || e->res.rc) && (!e->copies || e->res.rc)) {
        e->res.phase_ns[CONS_AFTER] = cons_now(e) - (e->job_end ? e->job_end : cons_now(e));
        set_finished(e);
    }
}

bool cons_engine_finished(const struct cons_engine *e)
{
    return e->finished;
}

/* ------------------------------------------------------------ stun */

static void run_after_drain(struct cons_engine *e)
{
    void (*fn)(struct cons_engine *) = e->after_drain;
    e->after_drain = NULL;
    if (fn)
        fn(e);
}

void cons_stun_fixed(struct cons_engine *e, uint64_t fixed_ns,
                     void (*then)(struct cons_engine *e))
{
    if (!e->stunned) {
        e->stunned = true;
        e->stun_start = cons_now(e);
        e->res.stuns++;
    }
    e->after_drain = then;
    e->stun_fixed_cur = fixed_ns;
    if (e->inflight.n || e->parked.n) {
        e->stun_draining = true;        /* finish_req() calls again when drained */
        return;
    }
    e->stun_draining = false;
    cons_arm(e, cons_now(e) + fixed_ns, run_after_drain);
}

void cons_stun(struct cons_engine *e, void (*then)(struct cons_engine *e))
{
    cons_stun_fixed(e, e->cfg.mcfg.stun_fixed_ns, then);
}

/* A stun ends now: count its length.  The guest sees the completions
 * the stun held back when it runs on (guest_sees); a host crash ends the
 * stun with the guest, which never sees them. */
static void stun_over(struct cons_engine *e, bool guest_sees)
{
    uint64_t d = cons_now(e) - e->stun_start;
    e->res.stun_total_ns += d;
    if (d > e->res.stun_max_ns)
        e->res.stun_max_ns = d;
    e->stunned = false;
    cons_guest_release_held(e, guest_sees);
}

void cons_unstun(struct cons_engine *e)
{
    if (!e->stunned)
        return;
    stun_over(e, true);
    cons_guest_kick(e);
}

/* ------------------------------------------------------------ the job */

uint64_t *cons_grains_above(struct cons_engine *e, int top)
{
    uint64_t n = cons_chain_nr_grains(e->ch);
    uint64_t *map = vm_bitmap_new(n);
    if (!map) {
        cons_fail(e, VM_ENOMEM, "grain bitmap");
        return NULL;
    }
    for (int l = e->cfg.target + 1; l <= top; l++)
        cons_chain_mark_allocated(e->ch, l, map);
    /* and the grains of guest writes still in flight: issued before the
     * job, they were not mirrored, and the grains they allocate are not
     * in the tables yet (the copy waits for them, then takes them) */
    const struct cons_glist *lists[] = { &e->inflight, &e->parked };
    for (int i = 0; i < 2; i++)
        for (const struct cons_greq *r = lists[i]->head; r; r = r->next)
            if (r->io.op == VM_BLKIO_WRITE)
                for (uint64_t g = r->g0; g <= r->g1 && g < n; g++)
                    vm_bitmap_set(map, g);
    return map;
}

void cons_ready(struct cons_engine *e)
{
    if (e->res.ready)
        return;
    e->res.ready = true;
    e->res.ready_ns = cons_now(e) - e->job_start;
}

static void after_done(struct cons_engine *e)
{
    cons_guest_stop(e);
    cons_maybe_finish(e);
}

static void note_left(struct cons_engine *e);

static void job_over(struct cons_engine *e)
{
    if (!e->job_done && e->ch)
        note_left(e);
    e->job_running = false;
    e->job_end = cons_now(e);
    e->res.total_ns = e->job_end - e->job_start;
    e->res.phase_ns[CONS_DURING] = e->res.total_ns;
    e->copy_paused = true;
    /* operations the job leaves in flight (copies, target-only merges)
     * hold their grains until they end: the guest's writes after the job
     * wait for them (cons_guest.c) */
    uint64_t *held = e->merges ? e->busy : NULL;
    if (held)
        e->busy = NULL;
    cons_copy_end(e);
    e->busy = held;
    cons_arm(e, e->job_end + e->cfg.after_ns, after_done);
}

static void switched(struct cons_engine *e, int rc)
{
    if (rc) {                       /* the disk still names the deltas */
        cons_job_fail_desc(e, rc, "switch-over descriptor write");
        return;
    }
    e->job_done = true;
    e->res.done = cons_chain_nr_layers(e->ch) == e->cfg.target + 1;
    job_over(e);
    cons_unstun(e);
}

void cons_switch_over(struct cons_engine *e)
{
    for (int l = cons_chain_nr_layers(e->ch) - 1; l > e->cfg.target; l--) {
        int rc = cons_chain_remove(e->ch, l);
        if (rc) {
            cons_fail(e, rc, "remove a consolidated delta");
            return;
        }
    }
    e->active = e->cfg.target;
    cons_ready(e);
    void *g;
    cons_done_fn cb = cons_guard(e, switched, &g);
    int rc = cb ? cons_chain_write_desc(e->ch, NULL, 0, cb, g) : VM_ENOMEM;
    if (rc)
        cons_fail(e, rc, "descriptor write");
}

void cons_give_up(struct cons_engine *e)
{
    e->gave_up = true;
    job_over(e);
}

/* The job's end on a failure: what a stun was waiting for is off. */
static bool job_fail_begin(struct cons_engine *e, int rc, const char *what)
{
    if (rc != VM_EIO) {
        cons_fail(e, rc, what);
        return false;
    }
    if (!e->job_running || e->failed || e->job_done || e->timed_out || e->gave_up)
        return false;               /* over already: the job's late I/O */
    e->failed = true;
    e->job_gen++;                   /* the method's callbacks in flight die */
    e->res.job_failed = true;
    snprintf(e->res.job_error, sizeof e->res.job_error, "%s: %s", what, vm_strerror(rc));
    e->after_drain = NULL;
    e->stun_draining = false;
    job_over(e);
    return true;
}

void cons_job_fail(struct cons_engine *e, int rc, const char *what)
{
    if (job_fail_begin(e, rc, what)) {
        cons_unstun(e);
        cons_maybe_finish(e);
    }
}

/* Guarded (cons_guard): a crash during the reopen forgets it. */
static void reopened(struct cons_engine *e, int rc)
{
    e->reopening = false;
    if (rc) {                       /* the VM cannot open its disk: the run ends */
        cons_fail(e, rc, "reopen after a failed descriptor write");
        e->disk_lost = true;        /* nothing to check */
        set_finished(e);
        return;
    }
    e->active = cons_chain_nr_layers(e->ch) - 1;
    cons_note_space(e);
    cons_unstun(e);
    cons_maybe_finish(e);
}

/* Stunned and drained: the chain in memory goes, the disk's comes.  No
 * copy may be in flight (every descriptor write comes after the copy it
 * follows): its writes would land under the reopened tables. */
static void reopen_now(struct cons_engine *e)
{
    if (e->copies) {
        cons_fail(e, VM_EINVAL, "reopen with copies in flight");
        return;
    }
    struct cons_chain *old = e->ch;
    cons_chain_kill(old);           /* late completions find it, dead */
    if (e->nr_dead < (int)(sizeof e->dead / sizeof e->dead[0]))
        e->dead[e->nr_dead++] = old;
    e->ch = cons_chain_new(e->p.blk, &e->chain_cfg);
    if (!e->ch) {
        e->ch = old;
        cons_fail(e, VM_ENOMEM, "reopen");
        set_finished(e);
        return;
    }
    e->reopening = true;
    void *g;
    cons_done_fn cb = cons_guard(e, reopened, &g);
    int rc = cb ? cons_chain_open(e->ch, NULL, NULL, cb, g) : VM_ENOMEM;
    if (rc && cb)
        cb(g, rc);
    else if (rc)
        reopened(e, rc);
}

void cons_job_fail_desc(struct cons_engine *e, int rc, const char *what)
{
    if (job_fail_begin(e, rc, what))
        cons_stun_fixed(e, 0, reopen_now);
}

static void job_timeout(struct cons_engine *e)
{
    if (e->job_done || e->stunned)
        return;         /* a stun in progress finishes what it started */
    e->timed_out = true;
    job_over(e);
}

static void job_begin(struct cons_engine *e)
{
    e->job_running = true;
    if (!e->job_start) {
        e->job_start = cons_now(e);
        e->res.start_ns = e->job_start;
        e->res.phase_ns[CONS_BEFORE] = e->job_start - e->load_t0;
        uint64_t *m = cons_grains_above(e, cons_chain_nr_layers(e->ch) - 1);
        if (m) {
            e->res.delta_bytes = vm_bitmap_count(m, cons_chain_nr_grains(e->ch)) *
                                 cons_chain_grain_sectors(e->ch) * 4096ull;
            vm_bitmap_free(m);
        }
        cons_arm(e, e->job_start + e->cfg.timeout_ns, job_timeout);
    }
    e->phase_state = 0;
    e->cfg.method->start(e);
}

/* ------------------------------------------------------------ checks */

/* A comparison of a layer's view of the chain with the oracle over every
 * run of sectors worth checking (cons_oracle_each), a grain's part at a
 * time (a grain is contiguous on the device). */
struct cmp_ctx {
    struct cons_engine *e;
    int view;                       /* the layer whose view is read */
    uint64_t *buf;                  /* [2 x grain sectors]: read, expected */
    uint64_t checked, mismatch;     /* sectors compared, differing */
    uint64_t *grains;               /* NULL, or the grains found differing
                                     * (each compared once: runs may overlap) */
};

static int cmp_run(void *arg, uint64_t s, uint64_t n)
{
    struct cmp_ctx *c = arg;
    struct cons_engine *e = c->e;
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint32_t shift = cons_chain_cfg(e->ch)->grain_shift;
    uint64_t *want = c->buf + gs;
    for (uint64_t i = s; i < s + n;) {
        uint64_t in = gs - (i & (gs - 1));
        if (in > s + n - i)
            in = s + n - i;
        uint64_t g = i >> shift;
        if (!c->grains || !vm_bitmap_test(c->grains, g)) {
            uint64_t lba = cons_chain_map(e->ch, c->view, i);
            if (e->peek.get(e->peek.arg, lba, in, c->buf))
                return VM_EIO;
            cons_oracle_expect_run(e->oracle, i, in, want);
            uint64_t bad = 0;
            for (uint64_t k = 0; k < in; k++)
                bad += c->buf[k] != want[k];
            c->checked += in;
            c->mismatch += bad;
            if (bad && c->grains)
                vm_bitmap_set(c->grains, g);
        }
        i += in;
    }
    return 0;
}

/* A part of a comparison in a thread of its own (cmp_all). */
struct cmp_part {
    struct cmp_ctx c;
    unsigned part, nparts;
    int rc;
};

static void *cmp_part_main(void *arg)
{
    struct cmp_part *p = arg;
    p->rc = cons_oracle_each_part(p->c.e->oracle, p->part, p->nparts, cmp_run, &p->c);
    return NULL;
}

/* Compare view with the oracle into c (set up by the caller: e, view,
 * grains); 0, or cons_fail()'s with what.  Without a grain map to fill,
 * half the runs are compared in a second thread meanwhile (the simulated
 * world waits: nothing changes the chain, the oracle or the store, and
 * both threads only read them; the sums are the same in any order): the
 * end-of-run check of a 100 GiB delta on a 1 TiB disk is 45 M sectors,
 * 8% of the run's instructions.  With no second buffer or thread, this
 * thread compares both halves.  A read that fails in either half makes
 * it compare once more in one pass, which stops at the first failing run
 * in order: the counts of a failed check are then those of one thread,
 * whatever the split and whether the thread started. */
static int cmp_all(struct cons_engine *e, struct cmp_ctx *c, const char *what)
{
    size_t buf_bytes = 2 * sizeof *c->buf * cons_chain_grain_sectors(e->ch);
    struct cmp_part other = { .c = *c, .part = 1, .nparts = 1 };
    uint64_t checked0 = c->checked, mismatch0 = c->mismatch;
    pthread_t th;
    bool threaded = false;
    int rc = 0;
    other.c.checked = other.c.mismatch = 0;
    other.c.buf = NULL;
    if (!(c->buf = malloc(buf_bytes)))
        rc = VM_ENOMEM;
    else if (!c->grains && (other.c.buf = malloc(buf_bytes)))
        other.nparts = 2;
    if (rc == 0 && other.nparts > 1)
        threaded = pthread_create(&th, NULL, cmp_part_main, &other) == 0;
    if (rc == 0 && cons_oracle_each_part(e->oracle, 0, other.nparts, cmp_run, c))
        rc = VM_EIO;
    if (threaded)
        pthread_join(th, NULL);
    else if (rc == 0 && other.nparts > 1)
        cmp_part_main(&other);
    c->checked += other.c.checked;
    c->mismatch += other.c.mismatch;
    if (other.nparts > 1 && (rc || other.rc)) {
        c->checked = checked0;
        c->mismatch = mismatch0;
        rc = cons_oracle_each(e->oracle, cmp_run, c) ? VM_EIO : 0;
    }
    free(other.c.buf);
    free(c->buf);
    c->buf = NULL;
    if (rc)
        cons_fail(e, rc, what);
    return rc;
}

/* Every sector the active view holds against the last acknowledged write. */
static void check_all(struct cons_engine *e, uint64_t *checked, uint64_t *mismatch)
{
    struct cmp_ctx c = { .e = e, .view = e->active };
    cmp_all(e, &c, "content check");
    *checked += c.checked;
    *mismatch += c.mismatch;
}

/* The work left when a job ends unconsolidated: the grains whose
 * content as the target layer sees the chain differs from what the
 * guest's disk holds (the oracle's last acknowledged writes) - what
 * QEMU's job reports as len - offset, measured here from the contents
 * rather than taken from a method's own count, so every method is
 * measured alike (a mirrored write already in the target is not left;
 * a helper's writes are). */
static void note_left(struct cons_engine *e)
{
    uint64_t ng = cons_chain_nr_grains(e->ch);
    struct cmp_ctx c = { .e = e, .view = e->cfg.target, .grains = vm_bitmap_new(ng) };
    if (!c.grains)
        cons_fail(e, VM_ENOMEM, "the work left");
    else if (cmp_all(e, &c, "the work left") == 0)
        e->res.left_bytes = vm_bitmap_count(c.grains, ng) *
                            cons_chain_grain_sectors(e->ch) * 4096ull;
    vm_bitmap_free(c.grains);
}

/* ------------------------------------------------------------ crash */

static void opened(void *arg, int rc)
{
    struct cons_engine *e = arg;
    if (rc) {
        /* a chain that does not parse breaks the crash invariant; a disk
         * that fails the reads (disk_error) only ends the run */
        if (rc == VM_EIO)
            e->disk_lost = true;
        else
            e->res.open_errors++;
        cons_fail(e, rc, "reopen after the crash");
        e->down = false;
        set_finished(e);
        return;
    }
    /* the writes in flight at the crash: each sector holds the old data
     * or the write's; whichever it is, it is the content from now on */
    for (struct cons_greq *r = e->crashed.head; r; r = r->next)
        for (uint32_t i = 0; i < r->io.nr; i++) {
            uint64_t s = r->io.sector + i, fp;
            uint64_t lba = cons_chain_map(e->ch, cons_chain_nr_layers(e->ch) - 1, s);
            if (e->peek.get(e->peek.arg, lba, 1, &fp) == 0 && fp == r->fps[i])
                cons_oracle_set(e->oracle, s, fp);
        }
    while (e->crashed.head) {       /* late completions only count down */
        struct cons_greq *r = e->crashed.head;
        cons_glist_del(&e->crashed, r);
        cons_glist_add(&e->orphans, r);
    }
    cons_oracle_clear_inflight(e->oracle);
    e->active = cons_chain_nr_layers(e->ch) - 1;
    check_all(e, &e->res.crash_checked, &e->res.lost_writes);
    e->res.recovery_ns += cons_now(e) - e->restart_at;
    e->down = false;
    if (e->job_done || e->timed_out || e->gave_up || e->failed) {
        /* over before the crash (consolidated, given up, failed): not again */
        if (cons_now(e) < e->job_end + e->cfg.after_ns)
            cons_arm(e, e->job_end + e->cfg.after_ns, after_done);
        else
            after_done(e);
    } else if (e->job_start) {
        cons_arm(e, e->job_start + e->cfg.timeout_ns, job_timeout);
        job_begin(e);
    } else {
        cons_arm(e, e->load_t0 + e->cfg.before_ns, job_begin);
    }
    cons_guest_resume(e);               /* the guest comes back */
}

static void restart(struct cons_engine *e)
{
    e->restart_at = cons_now(e);
    e->ch = cons_chain_new(e->p.blk, &e->chain_cfg);
    if (!e->ch) {
        cons_fail(e, VM_ENOMEM, "reopen");
        set_finished(e);
        return;
    }
    int rc = cons_chain_open(e->ch, e->job_rec, &e->job_len, opened, e);
    if (rc)
        opened(e, rc);
}

void cons_engine_crash(struct cons_engine *e)
{
    if (e->finished)
        return;
    e->res.crashes++;
    e->down = true;
    e->epoch++;
    cons_chain_kill(e->ch);
    if (e->nr_dead < (int)(sizeof e->dead / sizeof e->dead[0]))
        e->dead[e->nr_dead++] = e->ch;
    e->ch = NULL;
    cons_guest_crash(e);
    e->copies = e->copy_ios = 0;
    e->merges = 0;
    cons_copy_end(e);
    e->job_running = false;
    if (e->stunned)
        stun_over(e, false);        /* the VM was stunned until the host went down */
    e->stun_draining = false;
    e->after_drain = NULL;
    e->reopening = false;           /* a reopen in flight died with the host */
    cons_arm(e, cons_now(e) + e->cfg.restart_ns, restart);
}

/* ------------------------------------------------------------ life */

struct cons_engine *cons_engine_new(const struct cons_engine_cfg *cfg, const struct cons_ports *p,
                                    const struct cons_peek *peek, struct cons_chain *ch,
                                    uint64_t (*fp)(void *arg, int layer, uint64_t sector),
                                    void *fp_arg, struct cons_load *load)
{
    struct cons_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *cfg;
    e->p = *p;
    e->peek = *peek;
    e->ch = ch;
    e->chain_cfg = *cons_chain_cfg(ch);
    e->fp = fp;
    e->fp_arg = fp_arg;
    e->load = load;
    e->epoch = 1;
    e->active = cons_chain_nr_layers(ch) - 1;
    e->oracle = cons_oracle_new(ch, cfg->seed, fp, fp_arg);
    if (!e->oracle) {
        free(e);
        return NULL;
    }
    for (int i = 0; i < CONS_NR_PHASES; i++) {
        vm_hist_init(&e->res.write_lat[i]);
        vm_hist_init(&e->res.read_lat[i]);
    }
    cons_note_space(e);
    return e;
}

void cons_engine_start(struct cons_engine *e)
{
    cons_guest_start(e);
    cons_arm(e, e->load_t0 + e->cfg.before_ns, job_begin);
    if (e->cfg.crash)
        cons_arm(e, e->cfg.crash_at_ns, cons_engine_crash);
}

void cons_engine_result(struct cons_engine *e, struct cons_result *out)
{
    if (e->ch && !e->res.open_errors && !e->disk_lost)
        check_all(e, &e->res.final_checked, &e->res.final_mismatch);
    *out = e->res;
}

void cons_engine_free(struct cons_engine *e)
{
    if (!e)
        return;
    struct cons_glist *lists[] = { &e->queued, &e->parked, &e->inflight, &e->crashed,
                                   &e->orphans };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        while (lists[i]->head) {
            struct cons_greq *r = lists[i]->head;
            cons_glist_del(lists[i], r);
            cons_greq_free(e, r);
        }
    cons_guest_free_spares(e);
    free(e->held);
    while (e->arms) {               /* timers that never came (the run is over) */
        struct cons_arm *a = e->arms;
        e->arms = a->next;
        port_timer_cancel(e->p.timer, a->id);
        free(a);
    }
    while (e->guards) {
        struct cons_guard *g = e->guards;
        e->guards = g->next;
        free(g);
    }
    cons_copy_end(e);
    cons_copy_free_ops(e);
    cons_oracle_free(e->oracle);
    cons_load_free(e->load);
    cons_chain_free(e->ch);
    for (int i = 0; i < e->nr_dead; i++)
        cons_chain_free(e->dead[i]);
    free(e);
}
