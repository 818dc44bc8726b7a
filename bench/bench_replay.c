/*
 * bench_replay.c - throughput of the replay core on one core: the loop a
 * vCPU runs for every access record (for traces: translate GVA -> GPA
 * through the guest page table; then sim_mem_check and sim_mem_apply),
 * without SimGrid around it.
 *
 * Runs: synthetic uniform and zipf streams over 8 GiB and 64 GiB VMs,
 * replayed on guest-physical pages directly and through the page table
 * (the stream's pages taken as GVAs); a zipf stream with every page
 * write-traced, whose fault handler untraces the page (a save in
 * progress); the uniform 64 GiB stream through the page table once
 * more, its pages mapped by an untimed pass first (replay alone, without
 * the guest's first-touch faults); and a real trace's records
 * (sim_trace_open on a pagetrace: a record stands for `count` raw
 * accesses, so both records/s and raw accesses/s are printed).  Streams
 * are generated before the clock starts.  Also prints the model's bytes
 * per guest page at 64 GiB and the peak RSS.
 *
 * usage: bench_replay [--quick] [--only TEXT] [TRACE]   (default TRACE:
 *        $VMSIM_SRCDIR/workloads/traces/awk-bigarray.pagetrace.gz)
 *        --only TEXT runs only the rows whose name contains TEXT (e.g.
 *        "uniform 64 GiB via page table, mapped"; "trace" for the trace),
 *        for profiling one of them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/vm_units.h"
#include "sim_mem.h"
#include "sim_trace.h"
#include "sim_workload.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define GiB (1ull << 30)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct result { uint64_t records, raw, faults, errors; double secs; };

/* The vCPU's inner loop.  A trace fault is handled by untracing the page
 * (what a save policy does after copying it); an absent page cannot
 * occur here (every page is present). */
static void replay(struct sim_mem *m, const struct sim_access *a, uint64_t n, bool translate,
                   struct result *r)
{
    struct sim_mem_pf pf = { 0 };
    for (uint64_t i = 0; i < n; i++) {
        uint64_t gpa = sim_access_page(&a[i]);
        if (translate)
            sim_mem_prefetch_replay(m, 0, a, n, i, &pf);   /* as the vCPU does */
        if (translate && sim_mem_translate_replay(m, 0, gpa, sim_access_op(&a[i]) == SIM_OP_WRITE,
                                                  &gpa, &pf, i) < 0) {
            r->errors++;
            continue;
        }
        bool is_write = sim_access_op(&a[i]) == SIM_OP_WRITE;
        int kind = sim_mem_check(m, gpa, is_write);
        if (kind != SIM_MEM_OK) {
            r->faults++;
            port_mem_set_trace(&m->base, gpa, 1, PORT_MEM_TRACE_NONE);
        }
        sim_mem_apply(m, gpa, is_write);
        r->raw += a[i].count;
    }
    r->records += n;
}

static struct sim_mem *new_vm(uint64_t bytes, double aging)
{
    struct sim_exp_vm vm = { .memory_bytes = bytes, .aging = aging,
                             .content = { 0.25, 0.25, 0.10, 0.40 } };
    struct sim_mem *m;
    struct vm_diag d = { 0 };
    if (sim_mem_new(&vm, 1, &m, &d) < 0) {
        fprintf(stderr, "bench_replay: %s\n", d.msg);
        exit(1);
    }
    return m;
}

static const char *only;                /* --only: run the rows naming this */

static bool wanted(const char *name)
{
    return !only || strstr(name, only);
}

static void print_row(const char *name, const struct result *r)
{
    printf("%-34s %12.1f %12.1f %10llu %8.3f\n", name, r->records / r->secs / 1e6,
           r->raw / r->secs / 1e6, (unsigned long long)r->faults, r->secs);
}

static void synthetic(uint64_t vm_bytes, enum sim_pattern pat, bool translate, bool armed,
                      bool mapped, uint64_t nr, uint64_t passes)
{
    const char *pname = pat == SIM_PAT_ZIPF ? "zipf" : "uniform";
    char name[160];
    snprintf(name, sizeof name, "%s %llu GiB%s%s%s", pname,
             (unsigned long long)(vm_bytes / GiB), translate ? " via page table" : "",
             mapped ? ", mapped" : "", armed ? " write-traced" : "");
    if (!wanted(name))
        return;
    struct sim_mem *m = new_vm(vm_bytes, translate ? 0.5 : 0);
    struct sim_exp_workload w = { .pattern = pat, .footprint_bytes = vm_bytes, .zipf_s = 0.99,
                                  .stride_pages = 16, .write_fraction = 0.2 };
    strcpy(w.name, pname);
    struct sim_gen *g;
    struct vm_diag d = { 0 };
    struct sim_access *buf = malloc(nr * sizeof *buf);
    if (!buf || sim_gen_new(&w, m->nr_pages, 1, &g, &d) < 0) {
        fprintf(stderr, "bench_replay: %s\n", d.msg[0] ? d.msg : "out of memory");
        exit(1);
    }
    sim_gen_fill(g, buf, nr);
    sim_gen_free(g);
    if (armed)
        port_mem_set_trace(&m->base, 0, m->nr_pages, PORT_MEM_TRACE_WRITE);
    struct result r = { 0 };
    if (mapped)
        replay(m, buf, nr, translate, &r);  /* untimed: every page of the stream mapped */
    r = (struct result){ 0 };
    double t0 = now_s();
    for (uint64_t p = 0; p < passes; p++)
        replay(m, buf, nr, translate, &r);
    r.secs = now_s() - t0;
    print_row(name, &r);
    free(buf);
    sim_mem_free(m);
}

static void trace_run(const char *path, uint64_t min_records)
{
    if (!wanted("trace"))
        return;
    struct sim_trace *t;
    struct vm_diag d = { 0 };
    double t0 = now_s();
    if (sim_trace_open(path, SIM_TRACE_AUTO, &t, &d) < 0) {
        fprintf(stderr, "bench_replay: %s: %s\n", path, d.msg);
        return;
    }
    double open_s = now_s() - t0;
    uint64_t n = sim_trace_nr_records(t);
    const struct sim_access *rec = sim_trace_records(t);
    struct sim_mem *m = new_vm(8 * GiB, 0.5);
    struct result first = { 0 }, r = { 0 };
    t0 = now_s();
    replay(m, rec, n, true, &first);        /* first pass maps the pages */
    first.secs = now_s() - t0;
    uint64_t passes = (min_records + n - 1) / n;
    t0 = now_s();
    for (uint64_t p = 0; p < passes; p++)
        replay(m, rec, n, true, &r);
    r.secs = now_s() - t0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[96];
    printf("trace %s: %llu records, %llu raw accesses, %llu pages mapped, open %.3f s\n",
           base, (unsigned long long)n, (unsigned long long)sim_trace_total_accesses(t),
           (unsigned long long)m->mapped_pages, open_s);
    snprintf(name, sizeof name, "trace, first pass (maps pages)");
    print_row(name, &first);
    snprintf(name, sizeof name, "trace, %llu more passes", (unsigned long long)passes);
    print_row(name, &r);
    if (first.errors || r.errors)
        printf("  translation errors: %llu\n", (unsigned long long)(first.errors + r.errors));
    sim_mem_free(m);
    sim_trace_close(t);
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *trace = NULL;
    char def[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else
            trace = argv[i];
    }
    if (!trace) {
        const char *src = getenv("VMSIM_SRCDIR");
        snprintf(def, sizeof def, "%s/workloads/traces/awk-bigarray.pagetrace.gz",
                 src && *src ? src : VMSIM_SRCDIR);
        trace = def;
    }
    uint64_t nr = quick ? (1u << 20) : (4u << 20), passes = quick ? 2 : 8;

    double t0 = now_s();
    struct sim_mem *m = new_vm(64 * GiB, 0);
    double setup = now_s() - t0;
    printf("64 GiB VM: %llu pages, %zu bytes of model state = %.2f bytes/page, setup %.3f s\n",
           (unsigned long long)m->nr_pages, sim_mem_bytes(m),
           (double)sim_mem_bytes(m) / (double)m->nr_pages, setup);
    sim_mem_free(m);

    printf("%-34s %12s %12s %10s %8s\n", "replay (one core)", "M records/s", "M raw/s",
           "faults", "secs");
    uint64_t sizes[] = { 8 * GiB, 64 * GiB };
    for (int s = 0; s < 2; s++)
        for (int tr = 0; tr < 2; tr++) {
            synthetic(sizes[s], SIM_PAT_UNIFORM, tr, false, false, nr, passes);
            synthetic(sizes[s], SIM_PAT_ZIPF, tr, false, false, nr, passes);
        }
    synthetic(64 * GiB, SIM_PAT_UNIFORM, true, false, true, nr, passes);
    synthetic(8 * GiB, SIM_PAT_ZIPF, false, true, false, nr, passes);
    synthetic(64 * GiB, SIM_PAT_UNIFORM, false, true, false, nr, passes);
    trace_run(trace, quick ? 5000000 : 40000000);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
    return 0;
}
