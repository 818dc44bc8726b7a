/*
 * check_cons_faults.c - the consolidation engine when the datastore fails
 * an I/O (fake ports, tests/cons_rig.h): for every method, the k-th write
 * (then the k-th read) request of a run fails once, for every k the run
 * has.  Each run must end without an engine error and with every check
 * clean: a guest request the failure served gets VM_EIO and its sectors
 * hold their old content or the write's, whichever the guest's view then
 * shows; a failure in the job's own I/O (a copy, a flush, the target's
 * half of a mirrored write, a descriptor write) fails the job and the VM
 * runs on the chain as the disk holds it (reopened from the disk after a
 * failed descriptor write).  Across the sweep each method must have runs
 * of both kinds, and a host crash some completions after the failure must
 * lose no acknowledged write.  A reopen whose reads fail ends the run with
 * that error.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "consolidation/cons_int.h"
#include "cons_rig.h"

static const uint64_t eight[] = { 2, 5, 9, 20, 33, 40, 51, 60 };
static const uint64_t sixteen[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* Every 200 us for 6 ms, into grains 0..15: writes, every third a read. */
static struct vm_blkio *stream(size_t *n)
{
    size_t k = 0;
    struct vm_blkio *ios = calloc(6000000 / 200000 + 1, sizeof *ios);
    ck_assert_ptr_nonnull(ios);
    for (uint64_t t = 0; t < 6000000; t += 200000, k++)
        ios[k] = (struct vm_blkio){ .t_ns = t, .sector = (k * 16 + 5) % (16 * 16), .nr = 2,
                                   .op = k % 3 == 2 ? VM_BLKIO_READ : VM_BLKIO_WRITE };
    *n = k;
    return ios;
}


struct tally {
    uint64_t runs, failed_io;       /* runs; runs where an injected failure happened */
    uint64_t job_failed, guest_eio; /* runs whose job failed; whose guest saw VM_EIO */
    uint64_t reopened;              /* job failures on a descriptor write */
    uint64_t in_job;                /* runs whose failure came while the job ran */
    uint64_t crash_checked;         /* sectors checked after crashes */
};

/* Run method with the k-th request of kind `reads` failing once; crash
 * `crash_after` completions after the failure (0: no crash).  Returns
 * false once k is past the run's last request of that kind. */
static bool fail_one(const char *method, bool reads, uint64_t k, uint64_t crash_after,
                     bool lower, struct tally *t)
{
    size_t n;
    struct vm_blkio *ios = stream(&n);
    struct rig r;
    cons_rig_init(&r, method, eight, 8, lower ? sixteen : NULL, lower ? 16 : 0, ios, n, cons_rig_mcfg(), 0);
    /* 10 us a request + 5 us a block: the copy takes a few ms, so the
     * guest's writes meet it */
    fake_blk_set_timing(r.dev, &r.clk, 10000, 5000);
    if (reads)
        fake_blk_fail_reads(r.dev, k, VM_FAULT_ONCE, VM_EIO);
    else
        fake_blk_fail_writes(r.dev, k, VM_FAULT_ONCE, VM_EIO);
    cons_engine_start(r.e);
    uint64_t after = 0;
    bool crashed = false, fail_in_job = false;
    for (int guard = 0; !cons_engine_finished(r.e); guard++) {
        ck_assert_int_lt(guard, 1000000);
        if (crash_after && !crashed && fake_blk_nr_failed(r.dev) && after++ == crash_after) {
            fake_blk_crash(r.dev);
            cons_engine_crash(r.e);
            crashed = true;
            continue;
        }
        fake_timer_run_until(r.ft, r.clk.now_ns);   /* arrivals due meet the copy */
        if (cons_engine_finished(r.e))
            break;
        if (fake_blk_nr_queued(r.dev)) {
            bool before = fake_blk_nr_failed(r.dev) > 0, running = r.e->job_running;
            fake_blk_run_one(r.dev);
            fail_in_job |= !before && fake_blk_nr_failed(r.dev) && running;
        } else {
            ck_assert_msg(fake_timer_run_next(r.ft), "%s k=%llu: stuck (%s)", method,
                          (unsigned long long)k, r.e->res.error);
        }
    }
    bool failed = fake_blk_nr_failed(r.dev) > 0;
    cons_engine_result(r.e, &r.res);
    const struct cons_result *res = &r.res;
    ck_assert_msg(res->rc == 0, "%s %s k=%llu: %s", method, reads ? "read" : "write",
                  (unsigned long long)k, res->error);
    ck_assert_msg(res->final_mismatch == 0 && res->read_mismatch == 0 && res->lost_writes == 0,
                  "%s %s k=%llu: final %llu read %llu lost %llu (%s)", method,
                  reads ? "read" : "write", (unsigned long long)k,
                  (unsigned long long)res->final_mismatch, (unsigned long long)res->read_mismatch,
                  (unsigned long long)res->lost_writes, res->job_error);
    ck_assert_uint_gt(res->final_checked, 0);
    /* a failed job is not consolidated; a consolidated one did not fail */
    ck_assert(!(res->job_failed && res->done));
    if (!failed)
        ck_assert(!res->job_failed && res->io_errors == 0);
    t->in_job += fail_in_job;
    t->runs++;
    t->failed_io += failed;
    t->job_failed += res->job_failed;
    t->guest_eio += res->io_errors > 0;
    t->reopened += res->job_failed && strstr(res->job_error, "descriptor") != NULL;
    t->crash_checked += res->crash_checked;
    rig_fini(&r);
    free(ios);
    return failed;
}

/* Both chains: the delta alone over the base (a failed allocation's
 * sectors read through to the target, where a mirror's other half may
 * have landed), and on a lower delta holding every grain written. */
static struct tally sweep(const char *method, bool reads, uint64_t crash_after)
{
    struct tally t = { 0 };
    for (int lower = 0; lower < 2; lower++)
        for (uint64_t k = 0; fail_one(method, reads, k, crash_after, lower, &t); k++)
            ck_assert_uint_lt(k, 100000);
    return t;
}

static const char *const methods[] = { "mirror", "mirror-target-only", "mirror-selective",
                                       "offline", "helper", "qemu-background",
                                       "qemu-write-blocking", "qemu-write-blocking-unfixed" };
#define NR_METHODS (sizeof methods / sizeof methods[0])

START_TEST(failed_write_fails_the_job_or_the_guest_request)
{
    for (size_t i = 0; i < NR_METHODS; i++) {
        struct tally t = sweep(methods[i], false, 0);
        ck_assert_msg(t.failed_io > 20, "%s: %llu", methods[i], (unsigned long long)t.failed_io);
        ck_assert_msg(t.in_job > 10, "%s: %llu failures in the job", methods[i],
                      (unsigned long long)t.in_job);
        ck_assert_msg(t.job_failed > 0, "%s: no job failed", methods[i]);
        ck_assert_msg(t.guest_eio > 0, "%s: no guest request failed", methods[i]);
        /* the switch-over's (and the helper's) descriptor writes failed
         * in some run: the chain was reopened from the disk */
        ck_assert_msg(t.reopened > 0, "%s: no descriptor write failed", methods[i]);
    }
}
END_TEST

START_TEST(failed_read_fails_the_job_or_the_guest_request)
{
    for (size_t i = 0; i < NR_METHODS; i++) {
        struct tally t = sweep(methods[i], true, 0);
        ck_assert_msg(t.failed_io > 5, "%s: %llu", methods[i], (unsigned long long)t.failed_io);
        ck_assert_msg(t.job_failed > 0, "%s: no copy read failed", methods[i]);
        ck_assert_msg(t.guest_eio > 0, "%s: no guest read failed", methods[i]);
    }
}
END_TEST

/* A crash a few completions after the failure: the chain the disk holds
 * has every acknowledged write (lost_writes 0, checked in fail_one). */
START_TEST(crash_after_a_failed_write_loses_nothing)
{
    for (size_t i = 0; i < NR_METHODS; i++)
        for (uint64_t after = 1; after <= 7; after += 3) {
            struct tally t = sweep(methods[i], false, after);
            ck_assert_uint_gt(t.crash_checked, 0);
        }
}
END_TEST

/* The switch-over's descriptor write fails and so do the reads of the
 * reopen after it: the VM cannot open its disk, and the run ends with
 * that error (not a crash, not a hang). */
START_TEST(failed_reopen_ends_the_run)
{
    size_t n;
    struct vm_blkio *ios = stream(&n);
    uint64_t hit = 0;
    for (uint64_t k = 0; k < 200 && !hit; k++) {
        struct rig r;
        cons_rig_init(&r, "mirror", eight, 8, NULL, 0, ios, n, cons_rig_mcfg(), 0);
        fake_blk_set_timing(r.dev, &r.clk, 10000, 5000);
        fake_blk_fail_writes(r.dev, k, VM_FAULT_ONCE, VM_EIO);
        cons_engine_start(r.e);
        bool armed = false;
        for (int guard = 0; !cons_engine_finished(r.e); guard++) {
            ck_assert_int_lt(guard, 1000000);
            if (r.e->reopening && !armed) {
                fake_blk_fail_reads(r.dev, 0, VM_FAULT_PERSIST, VM_EIO);
                armed = true;
            }
            fake_timer_run_until(r.ft, r.clk.now_ns);
            if (cons_engine_finished(r.e))
                break;
            if (fake_blk_nr_queued(r.dev))
                fake_blk_run_one(r.dev);
            else
                ck_assert(fake_timer_run_next(r.ft));
        }
        cons_engine_result(r.e, &r.res);
        if (armed) {
            hit = k + 1;
            ck_assert_int_eq(r.res.rc, VM_EIO);
            ck_assert_msg(strstr(r.res.error, "reopen") != NULL, "%s", r.res.error);
            ck_assert(r.res.job_failed);
            ck_assert_uint_eq(r.res.final_checked, 0);
        } else {
            ck_assert_int_eq(r.res.rc, 0);
        }
        rig_fini(&r);
    }
    ck_assert_msg(hit, "no run reopened its chain");
    free(ios);
}
END_TEST

int main(void)
{
    const struct cons_rig_case cases[] = {
        { "write", failed_write_fails_the_job_or_the_guest_request },
        { "read", failed_read_fails_the_job_or_the_guest_request },
        { "crash", crash_after_a_failed_write_loses_nothing },
        { "reopen", failed_reopen_ends_the_run },
    };
    return cons_rig_main("consolidation_faults", cases, sizeof cases / sizeof cases[0], 600, NULL);
}
