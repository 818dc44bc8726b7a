/*
 * check_cons_qemu.c - QEMU's mirror copier and write-blocking write path
 * (cons_copy.c, cons_m_qemu.c) with fake ports, for what check_cons.c's
 * one-grain ops cannot reach:
 *
 *   - an op of several grains (mirror_iteration() extending the first
 *     dirty chunk over the next ones) stops before a grain with an active
 *     write in flight: copying it would put the grain's old data over the
 *     mirrored write;
 *   - do_sync_target_write(): an unaligned head or tail of a
 *     write-blocking write that falls in a dirty grain is left to the copy
 *     (the bitmap reset aligns inwards), one in a clean grain goes to the
 *     target, whole grains written are clean;
 *   - before QEMU commit d69a879 no background copy is issued while an
 *     active write is in flight (qemu-write-blocking-unfixed): with one
 *     write kept in flight the copy stalls, while the fixed variant copies
 *     everything but the written grain; a write parked on a copy counts
 *     too (in_active_write_counter); under a closed-loop guest, which
 *     always has a write in flight, the unfixed job never converges and
 *     the fixed one does.
 *
 * The rig (tests/cons_rig.h) is check_cons.c's: a base and one delta, a
 * trace load, requests completed in the order the test picks.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "consolidation/cons_int.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "cons_rig.h"

/* chunk: the largest op; in flight: ops at once */
static struct cons_method_cfg qcfg(uint64_t chunk, uint32_t in_flight)
{
    return (struct cons_method_cfg){ .chunk_bytes = chunk, .max_in_flight = in_flight,
                                     .stun_fixed_ns = 1000, .stun_threshold_ns = 12000000000ull,
                                     .max_iterations = 9, .force_sync = true };
}

/* A base and one delta holding grains g[0..ng), a trace load of ios,
 * method m consolidating the delta into the base. */
static void rig_init(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                     const struct vm_blkio *ios, size_t nios, struct cons_method_cfg mc)
{
    cons_rig_init(r, method, g, ng, NULL, 0, ios, nios, mc, 0);
}

/* The queued copies (reads: the loads here have none) as grain lists:
 * ops[i][0..nops[i]); their number. */
static size_t queued_ops(struct rig *r, uint64_t ops[][16], uint32_t *nops)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_blk_nr_queued(r->dev); i++)
        if (queued_req(r, i)->op == PORT_BLK_READ) {
            ck_assert_uint_lt(n, 16);
            nops[n] = copy_grains(r, queued_req(r, i), ops[n]);
            n++;
        }
    return n;
}

/* Complete every copy queued, and those they issue, until none is. */
static uint32_t run_copies(struct rig *r)
{
    uint64_t ops[16][16];
    uint32_t nops[16], done = 0;
    while (queued_ops(r, ops, nops)) {
        run_copy(r, ops[0][0]);
        done++;
    }
    return done;
}

static const uint64_t sixteen[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* ------------------------------------------------------------ extents */

/* mirror_iteration() extends the first dirty chunk over the following
 * dirty chunks not in flight (an active write counts: it is in
 * s->ops_in_flight).  Ops of 2 grains, one in flight; the delta's grains
 * 0..15 are dirty.  Op {0,1} is issued at the start, then a write lands
 * in grain 3, the second grain of the next extent {2,3}: when {0,1} ends
 * the op is {2} alone, and 3 waits for the write. */
START_TEST(qemu_extent_stops_at_active_write)
{
    static const struct vm_blkio w3[] = {
        { .t_ns = 1000001, .sector = 3 * GB + 5, .nr = 1, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-write-blocking", sixteen, 16, w3, 1, qcfg(128 << 10, 1));
    struct cons_engine *e = r.e;
    start_job(&r, 1);
    uint64_t ops[16][16];
    uint32_t nops[16];
    ck_assert_uint_eq(queued_ops(&r, ops, nops), 1);
    ck_assert_uint_eq(nops[0], 2);                      /* an op is an extent: {0,1} */
    ck_assert_uint_eq(ops[0][0], 0);
    ck_assert_uint_eq(ops[0][1], 1);
    ck_assert(cons_guest_writes_overlap(e, 3, 3));      /* the write into 3 is in flight */
    run_copy(&r, 0);
    ck_assert_uint_eq(queued_ops(&r, ops, nops), 1);
    ck_assert_msg(nops[0] == 1 && ops[0][0] == 2,
                  "the extent from 2 must stop before 3 (write in flight): %u grains", nops[0]);
    ck_assert(vm_bitmap_test(e->copyset, 3));            /* 3 is left dirty for later */
    /* the write is down (source only: inside a dirty grain), then the
     * copy reads grain 3 with it */
    uint64_t s = 3 * GB + 5;
    size_t i = queued_write_at(&r, cons_chain_map(e->ch, 1, s));
    ck_assert_msg(i != SIZE_MAX, "the source write is in flight");
    fake_blk_run_nth(r.dev, i);
    ck_assert_uint_eq(r.e->res.guest_writes, 1);
    cons_rig_consolidated(&r);
    ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);
    rig_fini(&r);
}
END_TEST

/* ------------------------------------------------------------ head, tail */

/* do_sync_target_write(): bdrv_dirty_bitmap reset aligned inwards; an
 * unaligned head or tail in a dirty grain is not written to the target
 * (the copy takes the grain whole), one in a clean grain is.  One op of
 * one grain in flight; grains 0..3 are copied first (clean), op {4} is in
 * flight, 5..15 dirty.  Write A covers half of 5, all of 6, half of 7:
 * the target gets grain 6 only, and 6 is clean, 5 and 7 stay dirty.
 * Write B covers half of 2 and half of 3 (both clean): all of it goes to
 * the target. */
START_TEST(qemu_wb_head_tail_rule)
{
    static const struct vm_blkio ab[] = {
        { .t_ns = 1000001, .sector = 5 * GB + 8, .nr = 2 * GB, .op = VM_BLKIO_WRITE },
        { .t_ns = 1000002, .sector = 2 * GB + 8, .nr = GB, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-write-blocking", sixteen, 16, ab, 2, qcfg(64 << 10, 1));
    struct cons_engine *e = r.e;
    start_job(&r, 0);
    for (uint64_t g = 0; g < 4; g++)
        run_copy(&r, g);                                /* before the writes come */
    ck_assert_uint_eq(e->inflight.n, 0);
    while (e->inflight.n < 2)
        ck_assert(fake_timer_run_next(r.ft));
    ck_assert(!vm_bitmap_test(e->copyset, 2) && !vm_bitmap_test(e->copyset, 3));
    ck_assert(vm_bitmap_test(e->copyset, 5) && vm_bitmap_test(e->copyset, 7));

    size_t i = queued_write_at(&r, cons_chain_map(e->ch, 1, 5 * GB + 8));
    ck_assert_msg(i != SIZE_MAX, "A's source write is in flight");
    ck_assert_uint_eq(queued_req(&r, i)->nr_blocks, 2 * GB);
    fake_blk_run_nth(r.dev, i);
    ck_assert_msg(queued_write_at(&r, cons_chain_map(e->ch, 0, 5 * GB + 8)) == SIZE_MAX,
                  "A's head in dirty grain 5 must be left to the copy");
    i = queued_write_at(&r, cons_chain_map(e->ch, 0, 6 * GB));
    ck_assert_msg(i != SIZE_MAX, "A's whole grain 6 goes to the target");
    ck_assert_msg(queued_req(&r, i)->nr_blocks == GB,
                  "A's tail in dirty grain 7 must be left to the copy: %u blocks",
                  queued_req(&r, i)->nr_blocks);
    ck_assert(vm_bitmap_test(e->copyset, 5));
    ck_assert(!vm_bitmap_test(e->copyset, 6));
    ck_assert(vm_bitmap_test(e->copyset, 7));

    i = queued_write_at(&r, cons_chain_map(e->ch, 1, 2 * GB + 8));
    ck_assert_msg(i != SIZE_MAX, "B's source write is in flight");
    fake_blk_run_nth(r.dev, i);
    i = queued_write_at(&r, cons_chain_map(e->ch, 0, 2 * GB + 8));
    ck_assert_msg(i != SIZE_MAX, "B's head in clean grain 2 goes to the target");
    ck_assert_msg(queued_req(&r, i)->nr_blocks == GB,
                  "B's tail in clean grain 3 goes to the target: %u blocks",
                  queued_req(&r, i)->nr_blocks);

    cons_rig_finish(&r, NULL, NULL);
    ck_assert_int_eq(r.res.rc, 0);
    ck_assert(r.res.done);
    ck_assert_uint_eq(r.res.guest_writes, 2);
    ck_assert_uint_eq(r.res.mirror_bytes, 2 * GB * 4096);   /* grain 6, B */
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);
}
END_TEST

/* ------------------------------------------------------------ d69a879 */

/* One guest write kept in flight on grain 15 (the last dirty one) after
 * the first ops are issued.  Fixed (QEMU >= d69a879): the copy goes on
 * over every other grain.  Unfixed: mirror_run() waits while an active
 * write is in flight: the ops issued before it end and no other starts.
 * Once the write is down both finish. */
static void hold_write(const char *method, bool fixed)
{
    static const struct vm_blkio w15[] = {
        { .t_ns = 1000001, .sector = 15 * GB + 5, .nr = 1, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, method, sixteen, 16, w15, 1, qcfg(64 << 10, 4));
    struct cons_engine *e = r.e;
    start_job(&r, 1);
    uint64_t ops[16][16];
    uint32_t nops[16];
    ck_assert_uint_eq(queued_ops(&r, ops, nops), 4);    /* 0 1 2 3, before the write */
    uint32_t ran = run_copies(&r);                      /* the write stays in flight */
    ck_assert_uint_eq(e->inflight.n, 1);
    if (fixed) {
        ck_assert_uint_eq(ran, 15);                     /* all but 15 */
        ck_assert_uint_eq(cons_copy_left(e), 1);
    } else {
        ck_assert_msg(ran == 4, "%s: %u ops with a write in flight, not 4", method, ran);
        ck_assert_uint_eq(cons_copy_left(e), 12);
    }
    ck_assert(!e->res.ready);
    size_t i = queued_write_at(&r, cons_chain_map(e->ch, 1, 15 * GB + 5));
    ck_assert(i != SIZE_MAX);
    fake_blk_run_nth(r.dev, i);                         /* the write is down */
    cons_rig_consolidated(&r);
    rig_fini(&r);
}

START_TEST(qemu_unfixed_stalls_on_write)
{
    hold_write("qemu-write-blocking", true);
    hold_write("qemu-write-blocking-unfixed", false);
}
END_TEST

/* A closed-loop guest (fio's iodepth without a rate) of two threads that
 * write outside the delta's grains, each issuing its next write the
 * instant its last is acknowledged: it keeps exactly two requests
 * outstanding from the start until the load stops, except while an ESX
 * stun stops its vCPUs (nothing arrives then); so when one write ends the
 * other is still in flight.  Fixed: the copy goes on beside them and the
 * job converges.  Unfixed: no copy op ever starts and the job times out
 * (10 s) with every grain still to copy - the bug QEMU commit d69a879
 * fixed: the job waited for active writes to settle before each copy
 * pass, which a guest always writing never lets happen, however fast the
 * disk.  (With one thread the job gets the instants between its writes,
 * in QEMU as here: its coroutine runs when the write ends.)
 * At every step, by the method's stun: nothing is issued while the VM is
 * stunned; under QEMU's drain (the vCPUs run) the guest goes on issuing
 * and its requests wait in the queue (drain_arrivals counts the steps
 * that see one); under ESX's stun nothing arrives until the unstun. */
struct loop_seen {
    uint64_t stunned_steps, drain_arrivals;
    uint32_t max_held;              /* completions an ESX stun held at once, at most */
    uint64_t write_max_ns;          /* the longest write latency, arrival to ack */
    uint64_t write_before_max_ns;   /* ... of the writes that arrived before the job */
    uint64_t read_max_ns;
    uint64_t stun_max_ns;
};

/* The number of latencies a histogram set holds, all phases. */
static uint64_t lat_count(const struct vm_hist *h)
{
    uint64_t n = 0;
    for (int i = 0; i < CONS_NR_PHASES; i++)
        n += h[i].count;
    return n;
}

/* reads: the loop reads those sectors instead of writing them;
 * crash: the host crashes once an ESX stun holds a completion. */
static void closed_loop_of(const char *method, bool fixed, uint64_t stun_fixed_ns,
                           bool reads, bool crash, struct loop_seen *seen)
{
    static const struct vm_blkio w[] = {
        { .t_ns = 1000, .sector = 40 * GB + 1, .nr = 1, .op = VM_BLKIO_WRITE },
        { .t_ns = 2000, .sector = 41 * GB + 2, .nr = 1, .op = VM_BLKIO_WRITE },
        { .t_ns = 1000, .sector = 40 * GB + 1, .nr = 1, .op = VM_BLKIO_READ },
        { .t_ns = 2000, .sector = 41 * GB + 2, .nr = 1, .op = VM_BLKIO_READ },
    };
    struct cons_load *l = cons_load_new_trace(w + (reads ? 2 : 0), 2, 1.0, true, 2);
    ck_assert_ptr_nonnull(l);
    cons_load_set_closed(l, true);
    struct rig r;
    struct cons_method_cfg mc = qcfg(64 << 10, 4);
    mc.stun_fixed_ns = stun_fixed_ns;
    cons_rig_init_load(&r, method, sixteen, 16, NULL, 0, l, mc, 0);
    struct cons_engine *e = r.e;
    bool drain = e->cfg.method->stun_kind == CONS_STUN_DRAIN;
    fake_blk_set_timing(r.dev, &r.clk, 100000, 0);          /* 100 us a request */
    cons_engine_start(e);
    uint64_t steps = 0, last_arrival = 0;
    bool crashed = false;
    *seen = (struct loop_seen){ 0 };
    for (int guard = 0; !cons_engine_finished(e); guard++) {
        ck_assert_int_lt(guard, 1000000);
        /* only an ESX stun holds completions, and only while it lasts */
        if (!e->stunned || e->cfg.method->stun_kind != CONS_STUN_VCPUS)
            ck_assert_uint_eq(e->nr_held, 0);
        if (e->nr_held > seen->max_held)
            seen->max_held = e->nr_held;
        if (crash && !crashed && e->nr_held > 0) {
            uint64_t w0 = e->res.guest_writes, r0 = e->res.guest_reads;
            cons_engine_crash(e);
            crashed = true;
            /* the guest died: the held completions are never seen */
            ck_assert_uint_eq(e->nr_held, 0);
            ck_assert_uint_eq(e->res.guest_writes, w0);
            ck_assert_uint_eq(e->res.guest_reads, r0);
        }
        uint32_t outstanding = e->queued.n + e->inflight.n + e->parked.n;
        if (!e->load_stopped && !e->down && (!e->stunned || drain) &&
            !(crashed && !e->job_running && !e->res.done)) {
            ck_assert_uint_eq(outstanding, 2);
            const struct cons_greq *q = e->inflight.head ? e->inflight.head
                                        : e->queued.head ? e->queued.head : e->parked.head;
            ck_assert_uint_ge(q->arrive_ns, last_arrival);
            last_arrival = q->arrive_ns;
        }
        if (e->stunned) {
            /* what is in flight was issued before the stun */
            for (const struct cons_greq *q = e->inflight.head; q; q = q->next)
                ck_assert_uint_le(q->arrive_ns, e->stun_start);
            bool arrived = false;
            for (const struct cons_greq *q = e->queued.head; q; q = q->next)
                arrived |= q->arrive_ns > e->stun_start;
            /* ESX: the VM's threads do not run, nothing arrives */
            ck_assert(drain || !arrived);
            seen->drain_arrivals += arrived;
            seen->stunned_steps++;
        }
        if (fake_timer_run_until(r.ft, r.clk.now_ns))
            continue;
        if (fake_blk_nr_queued(r.dev))
            fake_blk_run_nth(r.dev, 0);
        else
            ck_assert_msg(fake_timer_run_next(r.ft), "the engine waits for nothing");
        steps++;
    }
    cons_engine_result(e, &r.res);
    ck_assert_int_eq(r.res.rc, 0);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    ck_assert_uint_eq(r.res.read_mismatch, 0);
    ck_assert_uint_eq(r.res.lost_writes, 0);
    ck_assert(crash == crashed);
    /* every acknowledgement the guest saw has its latency, no other */
    ck_assert_uint_eq(r.res.guest_writes, lat_count(r.res.write_lat));
    ck_assert_uint_eq(r.res.guest_reads, lat_count(r.res.read_lat));
    seen->write_max_ns = r.res.write_lat[CONS_DURING].max;
    seen->write_before_max_ns = r.res.write_lat[CONS_BEFORE].max;
    seen->read_max_ns = r.res.read_lat[CONS_DURING].max;
    seen->stun_max_ns = r.res.stun_max_ns;
    if (crash) {
        rig_fini(&r);
        return;
    }
    /* a request per request time, no gaps: the load ran the whole time */
    uint64_t least = fixed ? 10 : 90000;
    ck_assert_uint_gt(reads ? r.res.guest_reads : r.res.guest_writes, least);
    /* the delta's 16 grains and the two the writes allocated in it
     * before the job (1 ms of load): 18 to copy; reads allocate none */
    if (fixed && reads) {
        ck_assert(r.res.done && r.res.ready);
        ck_assert_uint_eq(r.res.copied_bytes, 16 * GB * 4096);
    } else if (fixed) {
        ck_assert(r.res.done && r.res.ready);
        ck_assert_uint_gt(seen->stunned_steps, 0);  /* the pivot's stun was seen */
        ck_assert_uint_eq(r.res.copied_bytes, 18 * GB * 4096);
    } else {
        ck_assert_msg(!r.res.ready && !r.res.done, "%s converged under a closed loop", method);
        ck_assert_uint_eq(r.res.copied_bytes, 0);
    }
    rig_fini(&r);
}

static void closed_loop(const char *method, bool fixed, uint64_t stun_fixed_ns,
                        struct loop_seen *seen)
{
    closed_loop_of(method, fixed, stun_fixed_ns, false, false, seen);
}

START_TEST(qemu_unfixed_never_converges_closed_loop)
{
    struct loop_seen seen;
    closed_loop("qemu-write-blocking", true, 1000, &seen);
    closed_loop("qemu-write-blocking-unfixed", false, 1000, &seen);
}
END_TEST

/* What a closed-loop guest sees of a 50 ms stun (the device takes 100 us
 * a request).  ESX's stun (the mechanism): the vCPUs stop first, so the
 * write in flight then completes on the device at once but the guest
 * sees it only at the unstun - a latency of the whole stun - and nothing
 * arrives meanwhile.  QEMU's drain before the pivot: the vCPUs run on,
 * the completion is seen at once, the guest issues its next write, and
 * the drained block layer holds it until the pivot is over - the same
 * latency, by waiting in the queue. */
START_TEST(closed_loop_stun_kinds)
{
    const uint64_t stun = 50000000;
    struct loop_seen seen;
    closed_loop("mirror", true, stun, &seen);
    ck_assert_uint_eq(seen.drain_arrivals, 0);
    ck_assert_uint_gt(seen.max_held, 0);
    /* from its arrival, before the stun began, to the unstun */
    ck_assert_uint_ge(seen.stun_max_ns, stun);
    ck_assert_uint_gt(seen.write_max_ns, seen.stun_max_ns);
    closed_loop("qemu-write-blocking", true, stun, &seen);
    ck_assert_uint_gt(seen.drain_arrivals, 0);
    ck_assert_uint_ge(seen.write_max_ns, stun);
    /* offline: the VM shuts down, its I/O seen done before it goes off
     * (the writes that arrived before the job see no stun); nothing
     * arrives until it is back */
    closed_loop("offline", true, stun, &seen);
    ck_assert_uint_eq(seen.drain_arrivals, 0);
    ck_assert_uint_lt(seen.write_before_max_ns, stun);
    /* a loop of reads: an ESX stun holds them as it holds writes */
    closed_loop_of("mirror", true, stun, true, false, &seen);
    ck_assert_uint_gt(seen.max_held, 0);
    ck_assert_uint_ge(seen.read_max_ns, stun);
}
END_TEST

/* The host crashes while an ESX stun holds completions: the guest died
 * with them unseen - none is counted, no count disagrees with the
 * latencies, the writes are on the disk (acknowledged to the oracle when
 * the device completed them) and none is lost. */
START_TEST(closed_loop_crash_while_held)
{
    struct loop_seen seen;
    closed_loop_of("mirror", true, 50000000, false, true, &seen);
    ck_assert_uint_gt(seen.max_held, 0);
}
END_TEST

/* Before d69a879, in_active_write_counter also counts a write waiting on
 * a copy (active_write_prepare() counts it before
 * mirror_wait_on_conflicts()): ops {0} and {1} in flight, a write into 1
 * parks on its copy; when {0} (the oldest, the one the job waits for)
 * ends no op starts; when {1} ends the write goes on (grain 1 is clean by
 * then: to the source and the target) and still no op starts until it is
 * down. */
START_TEST(qemu_unfixed_parked_write_counts)
{
    static const struct vm_blkio w0[] = {
        { .t_ns = 1000001, .sector = GB + 5, .nr = 1, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-write-blocking-unfixed", sixteen, 16, w0, 1, qcfg(64 << 10, 2));
    struct cons_engine *e = r.e;
    cons_engine_start(e);
    while (!e->job_running || e->parked.n < 1)
        ck_assert(fake_timer_run_next(r.ft));
    ck_assert_uint_eq(e->inflight.n, 0);
    uint64_t ops[16][16];
    uint32_t nops[16];
    ck_assert_uint_eq(queued_ops(&r, ops, nops), 2);    /* 0 1 */
    run_copy(&r, 0);
    ck_assert_msg(queued_ops(&r, ops, nops) == 1, "a copy started with a write parked");
    run_copy(&r, 1);                                    /* the write goes on */
    ck_assert_uint_eq(e->parked.n, 0);
    ck_assert_uint_eq(e->inflight.n, 1);
    ck_assert_uint_eq(queued_ops(&r, ops, nops), 0);
    cons_rig_consolidated(&r);
    rig_fini(&r);
}
END_TEST

int main(void)
{
    const struct cons_rig_case cases[] = {
        { "qemu_extent", qemu_extent_stops_at_active_write },
        { "qemu_head_tail", qemu_wb_head_tail_rule },
        { "qemu_unfixed", qemu_unfixed_stalls_on_write },
        { "qemu_unfixed_parked", qemu_unfixed_parked_write_counts },
        { "qemu_unfixed_closed_loop", qemu_unfixed_never_converges_closed_loop },
        { "closed_loop_stun_kinds", closed_loop_stun_kinds },
        { "closed_loop_crash_while_held", closed_loop_crash_while_held },
    };
    return cons_rig_main("consolidation-qemu", cases, sizeof cases / sizeof cases[0], 60, NULL);
}
