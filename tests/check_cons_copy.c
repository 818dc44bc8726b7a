/*
 * check_cons_copy.c - the grain copier (models/consolidation/cons_copy.c)
 * with fake ports, the test completing each request itself: the ESX
 * methods' copier (a grain skipped for a guest write in flight is copied in
 * the first batch after the write, within a quarter of the batch; the
 * VMkernel data mover's 64 KiB I/Os, two batches in flight, a grain larger
 * than the slots alone) and QEMU's own copier and write path (a
 * write-blocking write's target request only once its source request is
 * down; a first dirty chunk with a write in flight stalls the copy,
 * nothing skipped or wanted; a new op per freed slot, the oldest awaited
 * when all are taken; a drain that finds the bitmap dirty charges no
 * pivot, mirror_flush() before READY and before the pivot).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "consolidation/cons_int.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "cons_rig.h"

static const uint64_t grain0[] = { 0 };    /* a delta of one grain, the first */

/* One delta (no lower one) over the base. */
static void rig_init(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                     const struct vm_blkio *ios, size_t n, struct cons_method_cfg mc,
                     uint64_t crash_at)
{
    cons_rig_init(r, method, g, ng, NULL, 0, ios, n, mc, crash_at);
}

/* ------------------------------------------------------------ wanted grains */

/* The copy skips a grain with a guest write in flight and marks it wanted
 * (cons_copy.c); the first batch after the write is down takes it, ahead
 * of the grains the cursor reaches later, at most a quarter of a batch of
 * wanted grains, and never one whose write is still in flight.  The delta
 * holds the even grains, so each is a run of its own: with 4 I/Os in
 * flight one batch of 4 grains is in flight at a time, and a batch (8
 * grains of 64 KiB) takes at most 2 wanted ones.  The test completes the
 * requests itself and reads each batch's grains off the device. */
static const uint64_t evens[] = { 0,  2,  4,  6,  8,  10, 12, 14, 16, 18, 20,
                                  22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42,
                                  44, 46, 48, 50, 52, 54, 56, 58, 60, 62 };
static const struct vm_blkio wanted_ios[] = {
    { .t_ns = 1000001, .sector = 8 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000001, .sector = 10 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000001, .sector = 12 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000001, .sector = 14 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
};

/* Complete the one queued copy batch (its read, then its write into the
 * base); *g gets its grains, *n their number.  Guest writes are one
 * block, so a request of whole grains is the copy's. */
static void run_batch(struct rig *r, uint64_t *g, uint32_t *n)
{
    size_t at = SIZE_MAX;
    for (size_t i = 0; i < fake_blk_nr_queued(r->dev); i++)
        if (queued_req(r, i)->op == PORT_BLK_READ) {
            ck_assert_msg(at == SIZE_MAX, "one copy batch in flight");
            at = i;
        }
    ck_assert_msg(at != SIZE_MAX, "a copy batch is in flight");
    *n = copy_grains(r, queued_req(r, at), g);
    fake_blk_run_nth(r->dev, at);
    for (at = 0; at < fake_blk_nr_queued(r->dev); at++)
        if (queued_req(r, at)->nr_blocks % 16 == 0 && queued_req(r, at)->op == PORT_BLK_WRITE)
            break;
    ck_assert_uint_lt(at, fake_blk_nr_queued(r->dev));
    uint64_t w[8];
    ck_assert_uint_eq(copy_grains(r, queued_req(r, at), w), *n);
    ck_assert_mem_eq(w, g, *n * sizeof *g);            /* into the same grains */
    fake_blk_run_nth(r->dev, at);
}

/* Complete the guest write into grain gr (in the delta and in the base). */
static void run_guest_write(struct rig *r, uint64_t gr)
{
    uint64_t lba[2] = { cons_chain_map(r->e->ch, 1, gr * 16 + WG),
                        cons_chain_map(r->e->ch, 0, gr * 16 + WG) };
    for (int k = 0; k < 2; k++) {
        size_t i = 0;
        while (i < fake_blk_nr_queued(r->dev) &&
               (queued_req(r, i)->op != PORT_BLK_WRITE || queued_req(r, i)->lba != lba[k]))
            i++;
        ck_assert_msg(i < fake_blk_nr_queued(r->dev), "guest write %llu (%d) in flight",
                      (unsigned long long)gr, k);
        fake_blk_run_nth(r->dev, i);
    }
}

static void expect_batch(struct rig *r, const char *what, const uint64_t *want, uint32_t nw)
{
    uint64_t g[8];
    uint32_t n;
    run_batch(r, g, &n);
    char got[128] = "";
    for (uint32_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), " %llu", (unsigned long long)g[i]);
    ck_assert_msg(n == nw && memcmp(g, want, n * sizeof *g) == 0, "%s: batch was%s", what, got);
}

START_TEST(wanted_grains_first)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.chunk_bytes = 512 << 10;                 /* 8 grains a batch: 2 wanted at most */
    mc.max_in_flight = 4;
    struct rig r;
    rig_init(&r, "mirror", evens, 32, wanted_ios, 4, mc, 0);
    struct cons_engine *e = r.e;
    cons_engine_start(e);
    while (e->inflight.n < 4)                   /* the job starts, the writes arrive */
        ck_assert(fake_timer_run_next(r.ft));
    ck_assert(e->job_running);

    /* the first batch was issued before the writes came */
    expect_batch(&r, "first", (const uint64_t[]){ 0, 2, 4, 6 }, 4);
    /* the second, issued as the first ended, skipped the grains being
     * written and wants them */
    ck_assert_uint_eq(e->want_n, 4);
    for (uint64_t g = 8; g <= 14; g += 2)
        ck_assert(vm_bitmap_test(e->want, g));
    run_guest_write(&r, 8);                     /* 8, 12, 14 are down, 10 is not */
    run_guest_write(&r, 12);
    run_guest_write(&r, 14);
    expect_batch(&r, "second", (const uint64_t[]){ 16, 18, 20, 22 }, 4);
    /* the third, issued as the second ended, takes 8 and 12 ahead of the
     * cursor's 28, 30: not 10 (written still) nor 14 (a quarter of 8
     * grains is 2) */
    ck_assert_uint_eq(e->want_n, 2);
    ck_assert_uint_eq(e->want_q[0], 10);
    ck_assert_uint_eq(e->want_q[1], 14);
    /* (each batch ends by issuing the next: the fourth took 14, not 10) */
    expect_batch(&r, "third", (const uint64_t[]){ 8, 12, 24, 26 }, 4);
    ck_assert_uint_eq(e->want_n, 1);            /* 10 waits for its write */
    ck_assert_uint_eq(e->want_q[0], 10);
    run_guest_write(&r, 10);
    expect_batch(&r, "fourth", (const uint64_t[]){ 14, 28, 30, 32 }, 4);
    ck_assert_uint_eq(e->want_n, 0);
    expect_batch(&r, "fifth", (const uint64_t[]){ 10, 34, 36, 38 }, 4);

    cons_rig_consolidated(&r);
    ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);  /* each grain copied once */
    ck_assert_uint_eq(r.res.guest_writes, 4);
    rig_fini(&r);
}
END_TEST

/* The queued copy requests of direction op (guest writes are one block,
 * so a request of whole grains is the copy's) and their I/Os. */
static size_t copy_reqs(struct rig *r, enum port_blk_op op, uint64_t *ios)
{
    size_t n = 0;
    *ios = 0;
    for (size_t i = 0; i < fake_blk_nr_queued(r->dev); i++) {
        struct port_blk_req *q = queued_req(r, i);
        if (q->op == op && q->nr_blocks % GB == 0) {
            n++;
            *ios += port_blk_req_ios(q);
        }
    }
    return n;
}

/* The ESX copier as the data mover (64 KiB I/Os, 32 in flight; 1 MiB
 * batches): 32 scattered grains, allocated back to back in the delta's
 * file, go as two batches in flight at once, each read as 16 I/Os (not
 * one: the file's run is split at 64 KiB) and written as 16; a third only
 * once one ends.  With I/Os of whole runs and 16 in flight (the copier
 * before the twelfth session of 2026-12-02), one batch, its read one I/O. */
START_TEST(data_mover_batches)
{
    static const struct vm_blkio far[] = {
        { .t_ns = 900000000000ull, .sector = 1, .nr = 1, .op = VM_BLKIO_READ },
    };
    static const struct {
        uint32_t max_in_flight;
        uint64_t io_bytes;
        size_t reads;               /* copy reads queued once the job runs */
        uint64_t ios, copy_ios;     /* their I/Os; the copier's count (0: not checked) */
    } cases[] = {
        { 32, 64 << 10, 2, 32, 32 },    /* the data mover: two batches of 16 */
        /* a grain alone makes more I/Os than there are slots (4 KiB I/Os:
         * 16 a grain, 8 slots): it goes, alone, and nothing else starts
         * until it ends (the slot count once wrapped below zero: 512 I/Os
         * in flight) */
        { 8, 4096, 1, GB, GB },
        { 16, 0, 1, 1, 0 },             /* the copier before: one read I/O */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct cons_method_cfg mc = cons_rig_mcfg();
        mc.chunk_bytes = 1 << 20;
        mc.max_in_flight = cases[c].max_in_flight;
        mc.io_bytes = cases[c].io_bytes;
        struct rig r;
        rig_init(&r, "mirror", evens, 32, far, 1, mc, 0);
        start_job(&r, 0);
        uint64_t ios;
        ck_assert_uint_eq(copy_reqs(&r, PORT_BLK_READ, &ios), cases[c].reads);
        ck_assert_uint_eq(ios, cases[c].ios);
        if (cases[c].copy_ios)
            ck_assert_uint_eq(r.e->copy_ios, cases[c].copy_ios);
        if (c == 0) {
            /* the first batch's read ends: its write goes out, no third batch */
            for (size_t i = 0; i < fake_blk_nr_queued(r.dev); i++)
                if (queued_req(&r, i)->op == PORT_BLK_READ) {
                    fake_blk_run_nth(r.dev, i);
                    break;
                }
            ck_assert_uint_eq(copy_reqs(&r, PORT_BLK_READ, &ios), 1);
            ck_assert_uint_eq(copy_reqs(&r, PORT_BLK_WRITE, &ios), 1);
            ck_assert_uint_eq(ios, 16);
        }
        cons_rig_consolidated(&r);
        ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);
        rig_fini(&r);
    }
}
END_TEST


/* ------------------------------------------------------------ QEMU's copier */

/* The copy requests queued (whole-grain reads through the delta: the load
 * of these tests has no reads), by their first grain; their number. */
static size_t queued_copies(struct rig *r, uint64_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_blk_nr_queued(r->dev); i++)
        if (queued_req(r, i)->op == PORT_BLK_READ) {
            uint64_t g[16];
            ck_assert_uint_ge(copy_grains(r, queued_req(r, i), g), 1);
            first[n++] = g[0];
        }
    return n;
}


/* write-blocking: the source first, the target once the source is down
 * (bdrv_mirror_top_do_write() then do_sync_target_write()), the
 * acknowledgement once the target is down; the whole grain written is
 * clean. */
START_TEST(qemu_wb_source_then_target)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    static const struct vm_blkio whole[] = {
        { .t_ns = 1000001, .sector = 8 * 16, .nr = 16, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-write-blocking", evens, 32, whole, 1, mc, 0);
    start_job(&r, 1);
    uint64_t s = 8 * 16;
    size_t src = queued_write_at(&r, cons_chain_map(r.e->ch, 1, s));
    ck_assert_msg(src != SIZE_MAX, "the source write is issued");
    ck_assert_msg(queued_write_at(&r, cons_chain_map(r.e->ch, 0, s)) == SIZE_MAX,
                  "no target write before the source write is down");
    fake_blk_run_nth(r.dev, src);
    size_t dst = queued_write_at(&r, cons_chain_map(r.e->ch, 0, s));
    ck_assert_msg(dst != SIZE_MAX, "the target write follows");
    ck_assert_uint_eq(r.e->res.guest_writes, 0);        /* not acknowledged yet */
    ck_assert(!vm_bitmap_test(r.e->copyset, 8));
    fake_blk_run_nth(r.dev, dst);
    ck_assert_uint_eq(r.e->res.guest_writes, 1);
    cons_rig_consolidated(&r);
    rig_fini(&r);
}
END_TEST

/* mirror_iteration(): the first dirty chunk has an active write in flight:
 * the job waits for it (mirror_wait_on_conflicts()), it does not skip to
 * the next dirty chunk, and nothing is "wanted".  The write falls inside
 * the dirty grain: do_sync_target_write() leaves it to the copy (source
 * only). */
START_TEST(qemu_copy_waits_on_conflict)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.max_in_flight = 4;
    struct rig r;
    rig_init(&r, "qemu-write-blocking", evens, 32, wanted_ios, 1, mc, 0);
    struct cons_engine *e = r.e;
    start_job(&r, 1);                           /* copies 0 2 4 6, a write into 8 */
    uint64_t f[8];
    ck_assert_uint_eq(queued_copies(&r, f), 4);
    run_copy(&r, 0);                            /* a slot frees: grain 8 is next */
    ck_assert_uint_eq(queued_copies(&r, f), 3);  /* waits: 10 is not taken */
    ck_assert_uint_eq(e->cursor, 8);
    ck_assert_uint_eq(e->want_n, 0);
    uint64_t s = 8 * 16 + WG;
    fake_blk_run_nth(r.dev, queued_write_at(&r, cons_chain_map(e->ch, 1, s)));
    ck_assert(queued_write_at(&r, cons_chain_map(e->ch, 0, s)) == SIZE_MAX);
    ck_assert_uint_eq(r.e->res.guest_writes, 1);
    ck_assert_uint_eq(queued_copies(&r, f), 4);  /* the write is down: 8, not 10 */
    ck_assert_uint_eq(f[3], 8);
    cons_rig_consolidated(&r);
    ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);
    rig_fini(&r);
}
END_TEST

/* The flushes the device has served so far (mirror_flush()). */
static size_t count_flushes(struct rig *r)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_blk_log_len(r->dev); i++)
        n += fake_blk_log_at(r->dev, i)->op == PORT_BLK_FLUSH;
    return n;
}

/* A new op as soon as a slot frees; with every slot taken the job waits
 * for the oldest op (mirror_wait_for_free_in_flight_slot()). */
START_TEST(qemu_copy_refills_per_slot)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.max_in_flight = 4;
    static const struct vm_blkio late[] = {
        { .t_ns = 900000000, .sector = 1 * 16, .nr = 1, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-background", evens, 32, late, 1, mc, 0);
    start_job(&r, 0);
    uint64_t f[8];
    ck_assert_uint_eq(queued_copies(&r, f), 4);      /* 0 2 4 6 */
    run_copy(&r, 0);
    ck_assert_uint_eq(queued_copies(&r, f), 4);      /* one slot: one op, at once */
    ck_assert_uint_eq(f[3], 8);
    run_copy(&r, 4);                                 /* not the oldest: wait for 2 */
    ck_assert_uint_eq(queued_copies(&r, f), 3);
    run_copy(&r, 2);                                 /* the oldest: 10 and 12 */
    ck_assert_uint_eq(queued_copies(&r, f), 4);
    ck_assert_uint_eq(f[2], 10);
    ck_assert_uint_eq(f[3], 12);
    cons_rig_consolidated(&r);
    /* mirror_flush() before READY and again drained before the pivot; the
     * pivot's fixed part charged once, on the one drain that pivots */
    ck_assert_uint_eq(count_flushes(&r), 2);
    ck_assert_uint_eq(r.res.stuns, 1);
    ck_assert_uint_ge(r.res.stun_total_ns, mc.stun_fixed_ns);
    rig_fini(&r);
}
END_TEST

/* background: the drain before the pivot finds the bitmap dirty again (a
 * write in flight when the copy went idle lands while draining): the
 * drain ends, no pivot and no fixed part charged; copying goes on, and the
 * next drain pivots with mirror_flush() of the target and the fixed part
 * once.  A flush before READY, one in the drain that pivots. */
START_TEST(qemu_pivot_fixed_once)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.stun_fixed_ns = 1000000000;
    static const struct vm_blkio one[] = {
        { .t_ns = 1000001, .sector = 5 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    rig_init(&r, "qemu-background", grain0, 1, one, 1, mc, 0);
    start_job(&r, 1);
    run_copy(&r, 0);                            /* idle, the guest's write in flight */
    size_t i = 0;
    while (i < fake_blk_nr_queued(r.dev) && queued_req(&r, i)->op != PORT_BLK_FLUSH)
        i++;
    ck_assert_msg(i < fake_blk_nr_queued(r.dev), "mirror_flush() before READY");
    fake_blk_run_nth(r.dev, i);
    ck_assert(r.res.ready || r.e->res.ready);
    ck_assert(r.e->stunned && r.e->stun_draining);  /* drained_begin: waits for the write */
    cons_rig_finish(&r, NULL, NULL);
    ck_assert_int_eq(r.res.rc, 0);
    ck_assert(r.res.done);
    ck_assert_uint_eq(r.res.stuns, 2);
    ck_assert_uint_ge(r.res.stun_max_ns, mc.stun_fixed_ns);
    ck_assert_uint_lt(r.res.stun_total_ns, mc.stun_fixed_ns + mc.stun_fixed_ns / 2);
    ck_assert_uint_eq(count_flushes(&r), 2);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);
}
END_TEST


int main(void)
{
    const struct cons_rig_case cases[] = {
        { "wanted", wanted_grains_first },
        { "data_mover_batches", data_mover_batches },
        { "qemu_wb_order", qemu_wb_source_then_target },
        { "qemu_conflict", qemu_copy_waits_on_conflict },
        { "qemu_per_slot", qemu_copy_refills_per_slot },
        { "qemu_pivot", qemu_pivot_fixed_once },
    };
    return cons_rig_main("consolidation-copy", cases, sizeof cases / sizeof cases[0], 600, NULL);
}
