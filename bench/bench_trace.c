/*
 * bench_trace.c - speed of the trace readers and of the binary cache.
 *
 *   bench_trace [TRACE] [LACKEY]
 *
 * TRACE defaults to workloads/traces/awk-bigarray.pagetrace.gz and LACKEY
 * to workloads/traces/sqlite3.raw-lackey.gz under $VMSIM_SRCDIR (or the
 * source folder this was built from).  Reports, best of several runs:
 *   - gzip text parsing in lines/s (records handed to a callback that
 *     does nothing; and again with distinct-page counting, as `stats`),
 *   - lackey parsing + reduction in lines/s,
 *   - conversion to the binary cache (parse + write + rename) and a
 *     reopen that finds the cache up to date,
 *   - iterating the memory-mapped records: records/s and the raw accesses
 *     they stand for per second.
 * Goals (issue): >= 5 M lines/s for gzip text; replay of the binary form
 * >= 20 M accesses/s (the replay through the guest memory model is
 * bench_replay's; this measures the mmap iteration under it).
 * The cache is built in a temporary folder, removed at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_trace.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t sink_records;

static int count_sink(void *arg, const struct sim_trace_rec *recs, size_t n)
{
    (void)arg;
    (void)recs;
    sink_records += n;
    return 0;
}

/* Best time of `runs` parses; 0 on success. */
static int bench_parse(const char *label, const char *path, enum sim_trace_format fmt,
                       bool distinct, int runs)
{
    double best = 1e30;
    struct sim_trace_stats st;
    for (int i = 0; i < runs; i++) {
        struct vm_diag d;
        vm_diag_clear(&d);
        double t0 = now_s();
        int rc = distinct ? sim_trace_parse(path, fmt, count_sink, NULL, &st, &d)
                          : sim_trace_parse(path, fmt, count_sink, NULL, NULL, &d);
        double t = now_s() - t0;
        if (rc) {
            fprintf(stderr, "bench_trace: %s\n", d.msg);
            return 1;
        }
        if (t < best)
            best = t;
    }
    /* the line count comes from one run with stats */
    if (!distinct) {
        struct vm_diag d;
        vm_diag_clear(&d);
        if (sim_trace_parse(path, fmt, NULL, NULL, &st, &d)) {
            fprintf(stderr, "bench_trace: %s\n", d.msg);
            return 1;
        }
    }
    printf("%-34s %10" PRIu64 " lines %9" PRIu64 " records  %7.3f s  %6.1f M lines/s\n", label,
           st.nr_lines, st.nr_records, best, (double)st.nr_lines / best / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    const char *src = getenv("VMSIM_SRCDIR");
    if (!src || !*src)
        src = VMSIM_SRCDIR;
    char trace[4096], lackey[4096];
    if (argc > 1)
        snprintf(trace, sizeof(trace), "%s", argv[1]);
    else
        snprintf(trace, sizeof(trace), "%s/workloads/traces/awk-bigarray.pagetrace.gz", src);
    if (argc > 2)
        snprintf(lackey, sizeof(lackey), "%s", argv[2]);
    else
        snprintf(lackey, sizeof(lackey), "%s/workloads/traces/sqlite3.raw-lackey.gz", src);

    printf("trace: %s\n", trace);
    if (bench_parse("parse gzip text", trace, SIM_TRACE_AUTO, false, 5) ||
        bench_parse("parse gzip text + distinct pages", trace, SIM_TRACE_AUTO, true, 3))
        return 1;
    if (access(lackey, R_OK) == 0 &&
        bench_parse("parse lackey + reduce", lackey, SIM_TRACE_LACKEY, false, 5))
        return 1;

    char dir[] = "/tmp/bench_trace.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_trace: mkdtemp");
        return 1;
    }
    struct vm_diag d;
    vm_diag_clear(&d);
    struct sim_trace *t;
    double t0 = now_s();
    if (sim_trace_open_in(trace, SIM_TRACE_AUTO, dir, &t, &d)) {
        fprintf(stderr, "bench_trace: %s\n", d.msg);
        rmdir(dir);
        return 1;
    }
    double t_convert = now_s() - t0;
    char cache[4096];
    snprintf(cache, sizeof(cache), "%s", sim_trace_cache_path(t));
    uint64_t n = sim_trace_nr_records(t);
    printf("%-34s %10" PRIu64 " records %7.1f MiB  %7.3f s (built=%d)\n", "convert to binary cache", n,
           (double)(n * sizeof(struct sim_access) + 128) / (1 << 20), t_convert,
           sim_trace_cache_built(t));
    sim_trace_close(t);

    t0 = now_s();
    if (sim_trace_open_in(trace, SIM_TRACE_AUTO, dir, &t, &d)) {
        fprintf(stderr, "bench_trace: %s\n", d.msg);
        unlink(cache);
        rmdir(dir);
        return 1;
    }
    printf("%-34s %29.6f s (built=%d)\n", "reopen (cache up to date)", now_s() - t0,
           sim_trace_cache_built(t));

    /* iterate the mapped records: the replay loop's memory traffic */
    const struct sim_access *r = sim_trace_records(t);
    uint64_t accesses = 0, mix = 0;
    int passes = 0;
    double best = 1e30, first = 0;
    for (; passes < 20; passes++) {
        double p0 = now_s();
        uint64_t a = 0, m = 0;
        for (uint64_t i = 0; i < n; i++) {
            a += r[i].count;
            m += sim_access_page(&r[i]) ^ sim_access_op(&r[i]);
        }
        double dt = now_s() - p0;
        if (passes == 0)
            first = dt;
        if (dt < best)
            best = dt;
        accesses = a;
        mix += m;
    }
    printf("%-34s %10" PRIu64 " records  %7.3f s  %6.1f M records/s  %8.1f M accesses/s  (first pass, page faults)\n",
           "iterate binary form (mmap)", n, first, (double)n / first / 1e6,
           (double)accesses / first / 1e6);
    printf("%-34s %10" PRIu64 " records  %7.3f s  %6.1f M records/s  %8.1f M accesses/s  (best of %d, check %" PRIx64 ")\n",
           "iterate binary form (mmap)", n, best, (double)n / best / 1e6,
           (double)accesses / best / 1e6, passes, mix & 0xffff);
    if (accesses != sim_trace_total_accesses(t))
        fprintf(stderr, "bench_trace: accesses %" PRIu64 " != header %" PRIu64 "\n", accesses,
                sim_trace_total_accesses(t));
    sim_trace_close(t);
    unlink(cache);
    rmdir(dir);
    return 0;
}
