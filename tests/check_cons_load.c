/*
 * check_cons_load.c - Check suite "cons_load": the guest's disk I/O
 * stream (models/consolidation/cons_load.c): the synthetic generator's
 * rate, read mix, alignment, bounds, hot share and determinism, the
 * replay of a recorded stream with speed and loop, and the arguments it
 * refuses.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "consolidation/cons_load.h"

#define DISK (1ull << 24)           /* 64 GiB of 4 KiB sectors */
#define MANY 200000

static struct cons_load_cfg base_cfg(void)
{
    return (struct cons_load_cfg){
        .write_bps = 64e6, .read_fraction = 0.3, .req_sectors = 16, .sequential = false,
        .hot_sectors = 1u << 18, .hot_start = 1u << 20, .hot_share = 0.8, .poisson = true,
        .qdepth = 8,
    };
}

static bool in_hot(const struct cons_load_cfg *c, const struct vm_blkio *io)
{
    return io->sector >= c->hot_start && io->sector + io->nr <= c->hot_start + c->hot_sectors;
}

/* =============================================================== synthetic */

START_TEST(test_cons_load_poisson_write_rate_is_lambda)
{
    struct cons_load_cfg c = base_cfg();
    struct cons_load *l = cons_load_new_synth(&c, DISK, 1);
    ck_assert_ptr_nonnull(l);
    struct vm_blkio io;
    uint64_t written = 0, prev = 0;
    for (int i = 0; i < MANY; i++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_ge(io.t_ns, prev);
        prev = io.t_ns;
        if (io.op == VM_BLKIO_WRITE)
            written += io.nr * 4096ull;
    }
    double bps = (double)written / (io.t_ns / 1e9);
    ck_assert_msg(fabs(bps / c.write_bps - 1) < 0.02, "write rate %.0f B/s, lambda %.0f", bps,
                  c.write_bps);
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_even_spacing_is_exact)
{
    struct cons_load_cfg c = base_cfg();
    c.poisson = false;
    c.read_fraction = 0.5;
    c.write_bps = 4096.0 * 16 * 1000;   /* 1000 writes/s -> 2000 requests/s */
    struct cons_load *l = cons_load_new_synth(&c, DISK, 1);
    struct vm_blkio io;
    for (uint64_t k = 1; k <= 1000; k++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_eq(io.t_ns, k * 500000);
    }
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_read_fraction_and_hot_share)
{
    struct cons_load_cfg c = base_cfg();
    struct cons_load *l = cons_load_new_synth(&c, DISK, 7);
    struct vm_blkio io;
    int reads = 0, hot = 0;
    for (int i = 0; i < MANY; i++) {
        cons_load_next(l, &io);
        reads += io.op == VM_BLKIO_READ;
        hot += in_hot(&c, &io);
    }
    /* cold requests land in the hot set with probability 1/64 */
    double want_hot = c.hot_share + (1 - c.hot_share) * (double)c.hot_sectors / DISK;
    ck_assert_msg(fabs((double)reads / MANY - c.read_fraction) < 0.01, "reads %d", reads);
    ck_assert_msg(fabs((double)hot / MANY - want_hot) < 0.01, "hot %d", hot);
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_no_reads_and_all_hot)
{
    struct cons_load_cfg c = base_cfg();
    c.read_fraction = 0;
    c.hot_share = 1;
    struct cons_load *l = cons_load_new_synth(&c, DISK, 3);
    struct vm_blkio io;
    for (int i = 0; i < 10000; i++) {
        cons_load_next(l, &io);
        ck_assert_int_eq(io.op, VM_BLKIO_WRITE);
        ck_assert(in_hot(&c, &io));
    }
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_random_requests_are_aligned_and_in_bounds)
{
    /* neither the disk's end nor the hot set's ends are multiples of 16 */
    struct cons_load_cfg c = base_cfg();
    uint64_t disk = 1000;
    c.hot_start = 37;
    c.hot_sectors = 100;                /* [37, 137): aligned slots 48, 64, ..., 112 */
    c.hot_share = 1;
    struct cons_load *l = cons_load_new_synth(&c, disk, 11);
    struct vm_blkio io;
    bool seen_first = false, seen_last = false;
    for (int i = 0; i < 20000; i++) {
        cons_load_next(l, &io);
        ck_assert_uint_eq(io.nr, 16);
        ck_assert_uint_eq(io.sector % 16, 0);
        ck_assert(in_hot(&c, &io));
        seen_first |= io.sector == 48;
        seen_last |= io.sector == 112;
    }
    ck_assert(seen_first && seen_last);
    cons_load_free(l);

    /* cold requests: anywhere on the disk, aligned, never past its end */
    c.hot_share = 0;
    l = cons_load_new_synth(&c, disk, 11);
    bool seen_disk_first = false, seen_disk_last = false;
    for (int i = 0; i < 50000; i++) {
        cons_load_next(l, &io);
        ck_assert_uint_eq(io.sector % 16, 0);
        ck_assert_uint_le(io.sector + io.nr, disk);
        seen_disk_first |= io.sector == 0;
        seen_disk_last |= io.sector == 976;     /* 976 + 16 = 992 <= 1000 < 1008 */
    }
    ck_assert(seen_disk_first && seen_disk_last);
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_sequential_wraps_inside_the_hot_set)
{
    struct cons_load_cfg c = base_cfg();
    c.sequential = true;
    c.hot_share = 1;
    c.hot_start = 5;
    c.hot_sectors = 40;                 /* [5, 45): 5, 21, then 37 would cross */
    struct cons_load *l = cons_load_new_synth(&c, 100, 1);
    struct vm_blkio io;
    const uint64_t want[] = { 5, 21, 5, 21, 5 };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cons_load_next(l, &io);
        ck_assert_uint_eq(io.sector, want[i]);
    }
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_sequential_cold_requests_stay_random)
{
    struct cons_load_cfg c = base_cfg();
    c.sequential = true;
    c.hot_share = 0.5;
    struct cons_load *l = cons_load_new_synth(&c, DISK, 5);
    struct vm_blkio io;
    uint64_t next = c.hot_start;
    int hot = 0;
    for (int i = 0; i < 20000; i++) {
        cons_load_next(l, &io);
        ck_assert_uint_le(io.sector + io.nr, DISK);
        if (io.sector == next) {        /* the stream, or a rare cold hit on it */
            next += c.req_sectors;
            hot++;
        } else {
            ck_assert_uint_eq(io.sector % c.req_sectors, 0);
        }
    }
    ck_assert_msg(abs(hot - 10000) < 400, "stream requests %d", hot);
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_whole_disk_when_no_hot_set)
{
    struct cons_load_cfg c = base_cfg();
    c.sequential = true;
    c.hot_share = 1;
    c.hot_start = 0;
    c.hot_sectors = 0;
    struct cons_load *l = cons_load_new_synth(&c, 40, 1);
    struct vm_blkio io;
    const uint64_t want[] = { 0, 16, 0, 16 };
    for (size_t i = 0; i < 4; i++) {
        cons_load_next(l, &io);
        ck_assert_uint_eq(io.sector, want[i]);
    }
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_same_seed_same_stream)
{
    struct cons_load_cfg c = base_cfg();
    struct cons_load *a = cons_load_new_synth(&c, DISK, 42);
    struct cons_load *b = cons_load_new_synth(&c, DISK, 42);
    struct cons_load *other = cons_load_new_synth(&c, DISK, 43);
    struct vm_blkio x, y, z;
    int differ = 0;
    for (int i = 0; i < 10000; i++) {
        cons_load_next(a, &x);
        cons_load_next(b, &y);
        cons_load_next(other, &z);
        ck_assert_uint_eq(x.t_ns, y.t_ns);
        ck_assert_uint_eq(x.sector, y.sector);
        ck_assert_uint_eq(x.nr, y.nr);
        ck_assert_uint_eq(x.op, y.op);
        differ += x.sector != z.sector;
    }
    ck_assert_int_gt(differ, 9000);
    cons_load_free(a);
    cons_load_free(b);
    cons_load_free(other);
}
END_TEST

START_TEST(test_cons_load_read_fraction_leaves_the_times_alone)
{
    /* one stream per choice: the arrival times do not depend on the mix */
    struct cons_load_cfg c = base_cfg();
    c.read_fraction = 0;
    c.write_bps = 1e6;
    struct cons_load_cfg d = base_cfg();
    d.read_fraction = 0.5;
    d.write_bps = 0.5e6;                /* the same request rate */
    struct cons_load *a = cons_load_new_synth(&c, DISK, 9);
    struct cons_load *b = cons_load_new_synth(&d, DISK, 9);
    struct vm_blkio x, y;
    for (int i = 0; i < 1000; i++) {
        cons_load_next(a, &x);
        cons_load_next(b, &y);
        ck_assert_uint_eq(x.t_ns, y.t_ns);
        ck_assert_uint_eq(x.sector, y.sector);
    }
    cons_load_free(a);
    cons_load_free(b);
}
END_TEST

/* =============================================================== replay */

static const struct vm_blkio trace3[] = {
    { .t_ns = 1000, .sector = 8, .nr = 1, .op = VM_BLKIO_WRITE },
    { .t_ns = 3000, .sector = 0, .nr = 0, .op = VM_BLKIO_FLUSH },
    { .t_ns = 7000, .sector = 9, .nr = 2, .op = VM_BLKIO_READ },
};

START_TEST(test_cons_load_trace_replays_once_at_speed)
{
    struct vm_blkio ios[3];
    for (int i = 0; i < 3; i++)
        ios[i] = trace3[i];
    struct cons_load *l = cons_load_new_trace(ios, 3, 2.0, false, 4);
    ios[0].sector = 999;                /* copied: the caller's array may change */
    ck_assert_uint_eq(cons_load_qdepth(l), 4);
    struct vm_blkio io;
    const uint64_t want[] = { 500, 1500, 3500 };
    for (int i = 0; i < 3; i++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_eq(io.t_ns, want[i]);
        ck_assert_uint_eq(io.sector, trace3[i].sector);
        ck_assert_uint_eq(io.nr, trace3[i].nr);
        ck_assert_uint_eq(io.op, trace3[i].op);
    }
    ck_assert(!cons_load_next(l, &io));
    ck_assert(!cons_load_next(l, &io));
    cons_load_free(l);
}
END_TEST

/* The closed-loop flag is the consumer's: it changes nothing the stream
 * gives (cons_guest.c takes the same requests, free of their times). */
START_TEST(test_cons_load_closed_is_a_flag_for_the_consumer)
{
    struct cons_load *a = cons_load_new_trace(trace3, 3, 1.0, false, 2);
    struct cons_load *b = cons_load_new_trace(trace3, 3, 1.0, false, 2);
    ck_assert(!cons_load_closed(a));
    cons_load_set_closed(b, true);
    ck_assert(cons_load_closed(b));
    struct vm_blkio x, y;
    for (int i = 0; i < 3; i++) {
        ck_assert(cons_load_next(a, &x) && cons_load_next(b, &y));
        ck_assert_mem_eq(&x, &y, sizeof x);
    }
    cons_load_set_closed(b, false);
    ck_assert(!cons_load_closed(b));
    cons_load_set_closed(NULL, true);       /* NULL: nothing done */
    ck_assert(!cons_load_closed(NULL));
    cons_load_free(a);
    cons_load_free(b);
}
END_TEST

START_TEST(test_cons_load_trace_loops_after_duration_plus_first_gap)
{
    /* lap = (7000 - 1000) + (3000 - 1000) = 8000 ns */
    struct cons_load *l = cons_load_new_trace(trace3, 3, 1.0, true, 1);
    struct vm_blkio io;
    const uint64_t want[] = { 1000, 3000, 7000, 9000, 11000, 15000, 17000, 19000, 23000 };
    for (int i = 0; i < 9; i++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_eq(io.t_ns, want[i]);
        ck_assert_uint_eq(io.sector, trace3[i % 3].sector);
    }
    cons_load_free(l);

    l = cons_load_new_trace(trace3, 3, 0.5, true, 1);   /* half speed: times double */
    for (int i = 0; i < 6; i++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_eq(io.t_ns, 2 * want[i]);
    }
    cons_load_free(l);
}
END_TEST

START_TEST(test_cons_load_one_request_trace_loops_1us_apart)
{
    struct cons_load *l = cons_load_new_trace(trace3, 1, 1.0, true, 1);
    struct vm_blkio io;
    for (uint64_t k = 0; k < 3; k++) {
        ck_assert(cons_load_next(l, &io));
        ck_assert_uint_eq(io.t_ns, 1000 + k * 1000);
    }
    cons_load_free(l);
}
END_TEST

/* =============================================================== refused */

START_TEST(test_cons_load_null_and_out_of_range)
{
    struct vm_blkio io;
    ck_assert_ptr_null(cons_load_new_synth(NULL, DISK, 1));
    ck_assert(!cons_load_next(NULL, &io));
    ck_assert_uint_eq(cons_load_qdepth(NULL), 0);
    cons_load_free(NULL);

    struct cons_load_cfg c = base_cfg();
    struct cons_load *ok = cons_load_new_synth(&c, DISK, 1);
    ck_assert_ptr_nonnull(ok);
    ck_assert(!cons_load_next(ok, NULL));
    cons_load_free(ok);

    struct cons_load_cfg bad[14];
    for (int i = 0; i < 14; i++)
        bad[i] = base_cfg();
    bad[0].write_bps = 0;               /* no writes, so no reads either */
    bad[1].write_bps = -1;
    bad[2].write_bps = NAN;
    bad[3].read_fraction = 1;
    bad[4].read_fraction = -0.1;
    bad[5].req_sectors = 0;
    bad[6].qdepth = 0;
    bad[7].hot_share = 1.5;
    bad[8].hot_sectors = 8;             /* a request larger than the hot set */
    bad[9].hot_start = DISK - 100;      /* the hot set beyond the disk */
    bad[10].hot_start = DISK;
    bad[11].hot_sectors = 0;            /* hot_start without a hot set */
    bad[12].hot_start = 1;              /* [1, 31): no aligned 16-sector slot */
    bad[12].hot_sectors = 30;
    bad[13].write_bps = INFINITY;
    for (int i = 0; i < 14; i++)
        ck_assert_msg(cons_load_new_synth(&bad[i], DISK, 1) == NULL, "bad[%d] accepted", i);
    ck_assert_ptr_null(cons_load_new_synth(&c, 8, 1));  /* a request larger than the disk */

    /* the sequential stream needs no alignment */
    c = bad[12];
    c.sequential = true;
    struct cons_load *seq = cons_load_new_synth(&c, DISK, 1);
    ck_assert_ptr_nonnull(seq);
    cons_load_free(seq);

    ck_assert_ptr_null(cons_load_new_trace(NULL, 3, 1.0, false, 1));
    ck_assert_ptr_null(cons_load_new_trace(trace3, 0, 1.0, false, 1));
    ck_assert_ptr_null(cons_load_new_trace(trace3, 3, 0.0, false, 1));
    ck_assert_ptr_null(cons_load_new_trace(trace3, 3, -1.0, false, 1));
    ck_assert_ptr_null(cons_load_new_trace(trace3, 3, NAN, false, 1));
    ck_assert_ptr_null(cons_load_new_trace(trace3, 3, 1.0, false, 0));
    struct vm_blkio back[2] = { trace3[2], trace3[0] };
    ck_assert_ptr_null(cons_load_new_trace(back, 2, 1.0, false, 1));
    struct vm_blkio badop = trace3[0];
    badop.op = 7;
    ck_assert_ptr_null(cons_load_new_trace(&badop, 1, 1.0, false, 1));
}
END_TEST

static Suite *cons_load_suite(void)
{
    Suite *s = suite_create("cons_load");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cons_load_poisson_write_rate_is_lambda);
    tcase_add_test(tc, test_cons_load_even_spacing_is_exact);
    tcase_add_test(tc, test_cons_load_read_fraction_and_hot_share);
    tcase_add_test(tc, test_cons_load_no_reads_and_all_hot);
    tcase_add_test(tc, test_cons_load_random_requests_are_aligned_and_in_bounds);
    tcase_add_test(tc, test_cons_load_sequential_wraps_inside_the_hot_set);
    tcase_add_test(tc, test_cons_load_sequential_cold_requests_stay_random);
    tcase_add_test(tc, test_cons_load_whole_disk_when_no_hot_set);
    tcase_add_test(tc, test_cons_load_same_seed_same_stream);
    tcase_add_test(tc, test_cons_load_read_fraction_leaves_the_times_alone);
    tcase_add_test(tc, test_cons_load_trace_replays_once_at_speed);
    tcase_add_test(tc, test_cons_load_trace_loops_after_duration_plus_first_gap);
    tcase_add_test(tc, test_cons_load_closed_is_a_flag_for_the_consumer);
    tcase_add_test(tc, test_cons_load_one_request_trace_loops_1us_apart);
    tcase_add_test(tc, test_cons_load_null_and_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cons_load_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
