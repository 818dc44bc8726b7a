/*
 * cons_guest.c - the guest's disk I/O path: arrivals from the load stream
 * (one timer per arrival instant; in a closed loop, one request for each
 * free slot instead, arrived when the slot came free), a FIFO of
 * requests waiting for a queue slot (at most qdepth issued; a stun holds
 * them all back), the issue through the method's routing, and the
 * acknowledgement: latency from arrival (to the unstun for a completion
 * an ESX stun holds back), the oracle, the read check.
 */
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "consolidation/cons_int.h"

void cons_glist_add(struct cons_glist *l, struct cons_greq *r)
{
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

void cons_glist_del(struct cons_glist *l, struct cons_greq *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
    l->n--;
}

/* ------------------------------------------------------------ spares */

/* A buffer of n fingerprints, its capacity in the word before it: a spare
 * when n fits the spares' size, else a malloc; NULL when out of memory. */
static uint64_t *buf_get(struct cons_engine *e, uint32_t n)
{
    if (!e->buf_cap)
        e->buf_cap = n ? n : 1;
    if (n <= e->buf_cap && e->nr_spare_bufs)
        return e->spare_bufs[--e->nr_spare_bufs];
    uint32_t cap = n <= e->buf_cap ? e->buf_cap : n;
    uint64_t *b = malloc(sizeof *b * ((size_t)cap + 1));
    if (!b)
        return NULL;
    b[0] = cap;
    return b + 1;
}

static void buf_put(struct cons_engine *e, uint64_t *b)
{
    if (!b)
        return;
    if (b[-1] == e->buf_cap && e->nr_spare_bufs < CONS_SPARE_BUFS)
        e->spare_bufs[e->nr_spare_bufs++] = b;
    else
        free(b - 1);
}

/* A zeroed request, or NULL. */
static struct cons_greq *greq_new(struct cons_engine *e)
{
    struct cons_greq *r = e->spare_reqs;
    if (!r)
        return calloc(1, sizeof *r);
    e->spare_reqs = r->next;
    e->nr_spare_reqs--;
    memset(r, 0, sizeof *r);
    return r;
}

void cons_greq_free(struct cons_engine *e, struct cons_greq *r)
{
    buf_put(e, r->fps);
    buf_put(e, r->expect);
    free(r->merge);
    if (e->nr_spare_reqs < CONS_SPARE_REQS) {
        r->next = e->spare_reqs;
        e->spare_reqs = r;
        e->nr_spare_reqs++;
    } else {
        free(r);
    }
}

void cons_guest_free_spares(struct cons_engine *e)
{
    while (e->spare_reqs) {
        struct cons_greq *r = e->spare_reqs;
        e->spare_reqs = r->next;
        free(r);
    }
    e->nr_spare_reqs = 0;
    while (e->nr_spare_bufs)
        free(e->spare_bufs[--e->nr_spare_bufs] - 1);
}

static void greq_free(struct cons_greq *r)
{
    cons_greq_free(r->e, r);
}

/* ------------------------------------------------------------ arrivals */

static void arrive(struct cons_engine *e);

/* Requests waiting for a queue slot at most: a guest whose disk does not
 * keep up stops producing (its threads block in the I/O they wait for);
 * the stream's arrivals then come late, counted from when they were due. */
#define QUEUE_MAX 65536

static void arm_next(struct cons_engine *e)
{
    if (e->load_stopped || e->down || e->arrival_armed || e->queued.n >= QUEUE_MAX ||
        cons_load_closed(e->load))
        return;
    if (!e->have_next) {
        if (!cons_load_next(e->load, &e->next))
            return;
        e->have_next = true;
    }
    e->arrival_armed = true;
    cons_arm(e, e->load_t0 + e->next.t_ns, arrive);
}

static void arrive(struct cons_engine *e)
{
    uint64_t now = cons_now(e);
    e->arrival_armed = false;
    /* the arrival this timer was armed for, whatever the clock's rounding
     * says, then those due by now */
    for (bool first = true; e->have_next && !e->load_stopped && e->queued.n < QUEUE_MAX &&
                            (first || e->load_t0 + e->next.t_ns <= now); first = false) {
        struct cons_greq *r = greq_new(e);
        if (!r) {
            cons_fail(e, VM_ENOMEM, "guest request");
            return;
        }
        r->e = e;
        r->io = e->next;
        r->arrive_ns = e->load_t0 + e->next.t_ns < now ? e->load_t0 + e->next.t_ns : now;
        r->phase = cons_phase_now(e);
        cons_glist_add(&e->queued, r);
        e->have_next = cons_load_next(e->load, &e->next);
    }
    cons_guest_kick(e);
    if (e->have_next)
        arm_next(e);
}

/* Closed loop: the stream's next requests into the queue, one for each
 * of the qdepth slots no request holds (queued, in flight or parked),
 * arrived now.  None while the host is down or the VM stunned or off
 * (its threads do not run; a QEMU drain leaves them running: what they
 * issue waits in the queue) or once the load has stopped;
 * cons_guest_kick() tops up again when that changes. */
static void top_up(struct cons_engine *e)
{
    uint64_t now = cons_now(e);
    while (!e->load_stopped && !e->down && cons_guest_threads_run(e) &&
           e->queued.n + e->inflight.n + e->parked.n < e->qdepth) {
        struct vm_blkio io;
        if (!cons_load_next(e->load, &io))
            return;                     /* a trace without loop has ended */
        struct cons_greq *r = greq_new(e);
        if (!r) {
            cons_fail(e, VM_ENOMEM, "guest request");
            return;
        }
        r->e = e;
        r->io = io;
        r->arrive_ns = now;
        r->phase = cons_phase_now(e);
        cons_glist_add(&e->queued, r);
    }
}

void cons_guest_start(struct cons_engine *e)
{
    e->load_t0 = cons_now(e);
    e->qdepth = cons_load_qdepth(e->load);
    if (!e->qdepth)
        e->qdepth = 1;
    if (cons_load_closed(e->load))
        cons_guest_kick(e);
    else
        arm_next(e);
}

void cons_guest_resume(struct cons_engine *e)
{
    if (cons_load_closed(e->load)) {
        cons_guest_kick(e);             /* no times: its threads issue again */
        return;
    }
    /* the arrivals due during the outage never happened */
    struct vm_blkio io;
    while (cons_load_next(e->load, &io))
        if (e->load_t0 + io.t_ns >= cons_now(e)) {
            e->next = io;
            e->have_next = true;
            arm_next(e);
            return;
        }
}

void cons_guest_stop(struct cons_engine *e)
{
    e->load_stopped = true;
}

/* ------------------------------------------------------------ completion */

/* The guest sees a request of op and nr sectors, arrived at arrive_ns in
 * phase, acknowledged now: its latency, its bytes in the phase now. */
static void seen(struct cons_engine *e, int op, int phase, uint64_t arrive_ns, uint32_t nr)
{
    struct cons_result *res = &e->res;
    uint64_t lat = cons_now(e) - arrive_ns;
    if (op == VM_BLKIO_WRITE) {
        vm_hist_add(&res->write_lat[phase], lat);
        res->write_bytes[cons_phase_now(e)] += (uint64_t)nr * 4096;
        res->guest_writes++;
    } else if (op == VM_BLKIO_READ) {
        vm_hist_add(&res->read_lat[phase], lat);
        res->guest_reads++;
    }
}

/* r is done on the device: the guest sees it now, or at the unstun when
 * an ESX stun holds the VM (cons_stun_kind).  VM_ENOMEM. */
static int seen_or_held(struct cons_engine *e, const struct cons_greq *r)
{
    if (!cons_stun_holds_completions(e)) {
        seen(e, r->io.op, r->phase, r->arrive_ns, r->io.nr);
        return 0;
    }
    if (e->nr_held == e->cap_held) {
        uint32_t cap = e->cap_held ? 2 * e->cap_held : 64;
        struct cons_held *n = realloc(e->held, cap * sizeof *n);
        if (!n)
            return VM_ENOMEM;
        e->held = n;
        e->cap_held = cap;
    }
    e->held[e->nr_held++] = (struct cons_held){ .arrive_ns = r->arrive_ns, .nr = r->io.nr,
                                                .op = (uint8_t)r->io.op,
                                                .phase = (uint8_t)r->phase };
    return 0;
}

void cons_guest_release_held(struct cons_engine *e, bool guest_sees)
{
    for (uint32_t i = 0; guest_sees && i < e->nr_held; i++) {
        const struct cons_held *h = &e->held[i];
        seen(e, h->op, h->phase, h->arrive_ns, h->nr);
    }
    e->nr_held = 0;
}

/* A write failed with the device's error: each of its sectors holds its
 * old content or the write's (a part of it may be down: a mirror's
 * other half, a grain whose table write failed); whichever the guest's
 * view shows now is the content from now on, as after a crash. */
static void settle_failed(struct cons_engine *e, const struct cons_greq *r)
{
    int view = e->job_running && e->cfg.method->read_view ? e->cfg.method->read_view(e)
                                                          : e->active;
    for (uint32_t i = 0; i < r->io.nr; i++) {
        uint64_t s = r->io.sector + i, fp;
        if (e->peek.get(e->peek.arg, cons_chain_map(e->ch, view, s), 1, &fp) == 0 &&
            fp == r->fps[i])
            cons_oracle_set(e->oracle, s, fp);
    }
}

static void finish_req(struct cons_engine *e, struct cons_greq *r)
{
    struct cons_result *res = &e->res;
    cons_glist_del(&e->inflight, r);
    switch (r->io.op) {
    case VM_BLKIO_WRITE:
        if (r->rc == 0) {
            if (cons_oracle_ack(e->oracle, r->io.sector, r->io.nr, r->fps, r->ver0))
                cons_fail(e, VM_ENOMEM, "the run's write oracle");
            if (seen_or_held(e, r))
                cons_fail(e, VM_ENOMEM, "held completions");
        } else {
            cons_oracle_fail(e->oracle, r->io.sector, r->io.nr);
            if (r->rc == VM_EIO)
                settle_failed(e, r);
        }
        /* QEMU marks the dirty bitmap before it looks at the write's
         * result (bdrv_mirror_top_do_write()) */
        if (e->job_running && e->cfg.method->write_done && (r->rc == 0 || r->rc == VM_EIO))
            e->cfg.method->write_done(e, r);
        cons_note_space(e);
        break;
    case VM_BLKIO_READ:
        if (r->rc == 0) {
            if (seen_or_held(e, r))
                cons_fail(e, VM_ENOMEM, "held completions");
            if (r->skip_check) {
                res->read_skipped += r->io.nr;
            } else {
                for (uint32_t i = 0; i < r->io.nr; i++) {
                    uint64_t s = r->io.sector + i;
                    /* the view at issue, a write acknowledged since, or a
                     * write still in flight (its data may be down already);
                     * the oracle is asked again only when the first fails */
                    if (r->fps[i] == r->expect[i] || r->fps[i] == cons_oracle_expect(e->oracle, s))
                        res->read_checked++;
                    else if (cons_oracle_busy(e->oracle, s))
                        res->read_skipped++;
                    else
                        res->read_mismatch++;
                }
            }
        }
        break;
    default:
        res->guest_flushes++;
        break;
    }
    if (r->rc == VM_EIO) {          /* the guest sees the error; the run goes on */
        res->io_errors++;
        /* a part may have gone to the target (a mirror's other half, a
         * target-only merge), where the guest's view does not have it:
         * the grains go back to the copy, which takes them again from
         * that view */
        if (r->to_target && e->job_running)
            cons_copy_mark(e, r->g0, r->g1);
    } else if (r->rc && !res->rc) {
        cons_fail(e, r->rc, "guest I/O");
    }
    if (r->mirror_rc)
        cons_job_fail(e, r->mirror_rc, "the target's half of a mirrored write");
    greq_free(r);
    if (e->stun_draining && e->inflight.n == 0 && e->parked.n == 0)
        cons_stun_fixed(e, e->stun_fixed_cur, e->after_drain);   /* drained: go on */
    if (e->job_running)
        cons_copy_kick(e);
    cons_guest_kick(e);
    cons_maybe_finish(e);
}

void cons_guest_sub_done(struct cons_engine *e, struct cons_greq *r, int rc)
{
    if (rc && !r->rc)
        r->rc = rc;
    if (--r->pending > 0)
        return;
    if (r->epoch != e->epoch)           /* issued before a crash: freed at the end */
        return;
    finish_req(e, r);
}

static void sub_cb(void *arg, int rc)
{
    struct cons_greq *r = arg;
    cons_guest_sub_done(r->e, r, rc);
}

static void submit_failed(struct cons_engine *e, struct cons_greq *r, int rc)
{
    r->pending++;           /* balanced by the sub_done below */
    cons_fail(e, rc, "submit");
    cons_guest_sub_done(e, r, rc);
}

void cons_guest_sub_write_part(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t s,
                               uint32_t n)
{
    if (layer != e->active)
        r->to_target = true;
    r->pending++;
    int rc = cons_chain_write(e->ch, layer, s, n, r->fps + (s - r->io.sector), sub_cb, r);
    if (rc) {
        r->pending--;
        submit_failed(e, r, rc);
    }
}

static void mirror_cb(void *arg, int rc)
{
    struct cons_greq *r = arg;
    if (rc && !r->mirror_rc)
        r->mirror_rc = rc;
    cons_guest_sub_done(r->e, r, 0);
}

void cons_guest_sub_mirror(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t s,
                           uint32_t n)
{
    r->to_target = true;
    r->pending++;
    int rc = cons_chain_write(e->ch, layer, s, n, r->fps + (s - r->io.sector), mirror_cb, r);
    if (rc) {
        r->pending--;
        submit_failed(e, r, rc);
    }
}

void cons_guest_sub_unmap_wait(struct cons_engine *e, struct cons_greq *r, int layer, uint64_t g)
{
    int n = cons_chain_unmap_wait(e->ch, layer, g, sub_cb, r);
    if (n < 0)
        submit_failed(e, r, n);
    else
        r->pending += n;
}

void cons_guest_sub_write(struct cons_engine *e, struct cons_greq *r, int layer)
{
    cons_guest_sub_write_part(e, r, layer, r->io.sector, r->io.nr);
}

/* ------------------------------------------------------------ issue */

/* After the job: do target-only merges it left in flight hold one of r's
 * grains (a merge writes the target and then unmaps the delta: a write
 * into the delta meanwhile would fill the grain from a target that does
 * not have the merge yet)?  A copy in flight is harmless: the delta
 * hides the target it writes. */
static bool held_after_job(const struct cons_engine *e, const struct cons_greq *r)
{
    if (e->job_running || !e->busy || !e->merges)
        return false;
    for (uint64_t g = r->g0; g <= r->g1 && g < e->nr_grains; g++)
        if (vm_bitmap_test(e->busy, g))
            return true;
    return false;
}

static void issue_write(struct cons_engine *e, struct cons_greq *r)
{
    if (e->job_running && e->cfg.method->write)
        e->cfg.method->write(e, r);
    else if (held_after_job(e, r))
        cons_guest_park(e, r);      /* unparked as they end */
    else
        cons_guest_sub_write(e, r, e->active);
}

static void issue(struct cons_engine *e, struct cons_greq *r)
{
    uint32_t gsh = cons_chain_cfg(e->ch)->grain_shift;
    r->epoch = e->epoch;
    r->g0 = r->io.sector >> gsh;
    r->g1 = r->io.nr ? (r->io.sector + r->io.nr - 1) >> gsh : r->g0;
    cons_glist_add(&e->inflight, r);
    int rc = 0;
    switch (r->io.op) {
    case VM_BLKIO_WRITE:
        r->fps = buf_get(e, r->io.nr);
        if (!r->fps || cons_oracle_begin(e->oracle, r->io.sector, r->io.nr)) {
            rc = VM_ENOMEM;
            break;
        }
        r->ver0 = e->write_seq + 1;
        for (uint32_t i = 0; i < r->io.nr; i++)
            r->fps[i] = cons_fp_write(e->cfg.seed, r->io.sector + i, ++e->write_seq);
        r->pending++;               /* held while the method routes it (and while parked) */
        issue_write(e, r);
        if (!r->parked)
            cons_guest_sub_done(e, r, 0);
        return;
    case VM_BLKIO_READ:
        r->fps = buf_get(e, r->io.nr);
        r->expect = buf_get(e, r->io.nr);
        if (!r->fps || !r->expect) {
            rc = VM_ENOMEM;
            break;
        }
        cons_oracle_expect_run(e->oracle, r->io.sector, r->io.nr, r->expect);
        for (uint32_t i = 0; i < r->io.nr && !r->skip_check; i++)
            if (cons_oracle_busy(e->oracle, r->io.sector + i))
                r->skip_check = true;
        r->pending = 1;
        int view = e->job_running && e->cfg.method->read_view ? e->cfg.method->read_view(e)
                                                              : e->active;
        rc = cons_chain_read(e->ch, view, r->io.sector, r->io.nr, r->fps, sub_cb, r);
        break;
    default:
        r->pending = 1;
        rc = cons_chain_flush(e->ch, sub_cb, r);
        break;
    }
    if (rc) {
        r->pending = 0;
        submit_failed(e, r, rc);
    }
}

/* Does r overlap a request issued and not yet acknowledged in a way the
 * guest's block layer orders (a write with anything, a read with a
 * write)?  Linux's page cache never has two writes of one page in flight,
 * and the order of two overlapping requests in flight together is not
 * defined: the guest waits (head of line, FIFO kept). */
static bool overlaps(const struct cons_glist *l, const struct cons_greq *r)
{
    if (r->io.op == VM_BLKIO_FLUSH)
        return false;
    uint64_t s = r->io.sector, end = s + r->io.nr;
    for (const struct cons_greq *o = l->head; o; o = o->next)
        if (o->io.op != VM_BLKIO_FLUSH &&
            (o->io.op == VM_BLKIO_WRITE || r->io.op == VM_BLKIO_WRITE) &&
            o->io.sector < end && s < o->io.sector + o->io.nr)
            return true;
    return false;
}

void cons_guest_kick(struct cons_engine *e)
{
    if (cons_load_closed(e->load))
        top_up(e);
    while (!e->down && !e->stunned && e->queued.head &&
           e->inflight.n + e->parked.n < e->qdepth) {
        struct cons_greq *r = e->queued.head;
        if (overlaps(&e->inflight, r) || overlaps(&e->parked, r))
            break;
        cons_glist_del(&e->queued, r);
        issue(e, r);
    }
    if (e->have_next && e->queued.n < QUEUE_MAX / 2)
        arm_next(e);            /* a full queue held the stream back */
}

/* ------------------------------------------------------------ parking */

void cons_guest_park(struct cons_engine *e, struct cons_greq *r)
{
    cons_glist_del(&e->inflight, r);
    cons_glist_add(&e->parked, r);
    r->parked = true;
}

void cons_guest_unpark(struct cons_engine *e)
{
    struct cons_greq *r = e->parked.head;
    e->parked = (struct cons_glist){ 0 };
    while (r) {
        struct cons_greq *next = r->next;
        cons_glist_add(&e->inflight, r);
        r->parked = false;
        issue_write(e, r);          /* the hold taken at issue is still there */
        if (!r->parked)
            cons_guest_sub_done(e, r, 0);
        r = next;
    }
}

bool cons_guest_writes_overlap(const struct cons_engine *e, uint64_t g0, uint64_t g1)
{
    for (const struct cons_greq *r = e->inflight.head; r; r = r->next)
        if (r->io.op == VM_BLKIO_WRITE && r->g0 <= g1 && g0 <= r->g1)
            return true;
    return false;
}

/* ------------------------------------------------------------ crash */

/* The host died: what was queued never reaches the disk (the guest died
 * with it); what was in flight may or may not have landed: kept on the
 * crashed list until the recovery settles it (cons_engine.c). */
void cons_guest_crash(struct cons_engine *e)
{
    for (struct cons_greq *r = e->queued.head, *n; r; r = n) {
        n = r->next;
        greq_free(r);
    }
    e->queued = (struct cons_glist){ 0 };
    for (struct cons_glist *l = &e->parked; l; l = l == &e->parked ? &e->inflight : NULL) {
        for (struct cons_greq *r = l->head, *n; r; r = n) {
            n = r->next;
            cons_glist_del(l, r);
            if (r->io.op == VM_BLKIO_WRITE) {
                cons_glist_add(&e->crashed, r);
            } else {
                cons_glist_add(&e->orphans, r);
            }
        }
    }
    e->have_next = false;
    e->arrival_armed = false;           /* its timer died with the host */
}
