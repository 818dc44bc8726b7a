/*
 * bench_guest.c - speed and memory of the guest model (models/guest) on
 * one core, without SimGrid: how fast the guest kernel's fault-in path
 * maps a large guest, how many GVA -> GPA walks per second the hypervisor
 * side does through real 4-level (and 5-level) tables, what a neighbour
 * translation costs, how many bytes of simulator state the tables take
 * per guest page, and the measured fragmentation of fresh and aged
 * guests.
 *
 * The guest maps 15/16 of its memory as one heap at 0x7f0000000000
 * (touched in address order); walk addresses are drawn uniformly over it
 * before the clock starts.  The walk loops sum the frames so that the
 * compiler keeps every walk.
 *
 * usage: bench_guest [--quick]     (--quick: a 1 GiB guest instead of 64 GiB)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/vm_rand.h"
#include "guest/guest_buddy.h"
#include "guest/guest_pt.h"

#define HEAP 0x7f0000000000ull
#define NR_ADDRS (8u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static struct guest_vm *build(uint64_t frames, unsigned levels, double aging, bool thp,
                              uint64_t pages, bool random_order, struct guest_as **as_out,
                              double *secs)
{
    struct guest_vm_cfg cfg = { .nr_frames = frames, .levels = levels, .aging = aging,
                                .seed = 1, .thp = thp };
    struct guest_vm *vm;
    struct vm_diag d;
    vm_diag_clear(&d);
    if (guest_vm_new(&cfg, &vm, &d) || guest_as_new(vm, as_out)) {
        fprintf(stderr, "bench_guest: %s\n", d.msg);
        exit(1);
    }
    struct vm_rand r;
    vm_rand_init(&r, 1, 2);
    double t0 = now_s();
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t p = random_order ? vm_rand_below(&r, pages) : i;
        uint64_t gfn;
        if (guest_as_fault_in(*as_out, HEAP + p * 4096, true, &gfn, &d)) {
            fprintf(stderr, "bench_guest: fault-in: %s\n", d.msg);
            exit(1);
        }
    }
    *secs = now_s() - t0;
    return vm;
}

static void walks(const char *label, struct guest_as *as, uint64_t pages, bool sequential)
{
    uint64_t *addr = malloc(NR_ADDRS * sizeof *addr);
    struct vm_rand r;
    vm_rand_init(&r, 1, 3);
    for (uint32_t i = 0; i < NR_ADDRS; i++)
        addr[i] = HEAP + (sequential ? (uint64_t)i % pages : vm_rand_below(&r, pages)) * 4096 +
                  (i & 0xff8);
    uint64_t sum = 0, miss = 0;
    const int rounds = 3;
    double t0 = now_s();
    for (int k = 0; k < rounds; k++)
        for (uint32_t i = 0; i < NR_ADDRS; i++) {
            uint64_t g;
            if (guest_pt_translate(as, addr[i], &g) == 0)
                sum += g;
            else
                miss++;
        }
    double dt = now_s() - t0;
    printf("  %-34s %7.1f M walks/s  (%.1f ns/walk, %llu unmapped, sum %llx)\n", label,
           rounds * (double)NR_ADDRS / dt / 1e6, dt * 1e9 / (rounds * (double)NR_ADDRS),
           (unsigned long long)miss, (unsigned long long)(sum & 0xffff));
    free(addr);
}

static void neighbours(struct guest_as *as, uint64_t pages)
{
    struct vm_rand r;
    vm_rand_init(&r, 1, 4);
    struct guest_xlat xl[GUEST_PT_ENTRIES];
    struct guest_walk_cost c = { 0, 0 };
    const uint32_t n = 1u << 20;
    uint64_t got = 0;
    double t0 = now_s();
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = 8 + vm_rand_below(&r, pages - 16);
        got += guest_pt_xlat_range(as, HEAP + (p - 8) * 4096, 17, xl, &c);
    }
    double dt = now_s() - t0;
    printf("  %-34s %7.2f M windows/s (%.0f ns, %.2f walks, %.1f entries each; %llu pages)\n",
           "+-8 window (17 pages)", n / dt / 1e6, dt * 1e9 / n, (double)c.walks / n,
           (double)c.entries / n, (unsigned long long)got);
    c = (struct guest_walk_cost){ 0, 0 };
    got = 0;
    t0 = now_s();
    for (uint32_t i = 0; i < n / 8; i++) {
        int k = guest_pt_xlat_table(as, HEAP + vm_rand_below(&r, pages) * 4096, xl, &c);
        got += k > 0 ? (uint64_t)k : 0;
    }
    dt = now_s() - t0;
    printf("  %-34s %7.2f M tables/s  (%.0f ns each, %llu pages)\n", "same-table window (512)",
           n / 8 / dt / 1e6, dt * 1e9 / (n / 8), (unsigned long long)got);
}

static void frag_table(uint64_t frames)
{
    printf("\nmeasured fragmentation: mean run of pages contiguous in GVA and GPA\n"
           "(%llu MiB guest, half of it touched; the order the guest touches pages in matters)\n",
           (unsigned long long)(frames >> 8));
    printf("  %-8s %14s %14s\n", "aging", "in order", "random order");
    double ag[] = { 0.0, 0.25, 0.5, 0.75, 0.9, 1.0 };
    for (size_t i = 0; i < sizeof ag / sizeof ag[0]; i++) {
        double m[2];
        for (int ro = 0; ro < 2; ro++) {
            struct guest_as *as;
            double s;
            struct guest_vm *vm = build(frames, 4, ag[i], false, frames / 2, ro, &as, &s);
            struct guest_frag f = { 0 };
            guest_pt_frag(as, &f);
            m[ro] = f.mean_run_pages;
            guest_vm_free(vm);
        }
        printf("  %-8.2f %14.2f %14.2f\n", ag[i], m[0], m[1]);
    }
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    uint64_t gib = quick ? 1 : 64;
    uint64_t frames = gib << 18;
    uint64_t pages = frames / 16 * 15;
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct guest_as *as;
        double secs;
        struct guest_vm *vm = build(frames, levels, 0.0, false, pages, false, &as, &secs);
        uint64_t tables = guest_vm_nr_tables(vm);
        printf("%llu GiB guest, %u-level tables, %llu pages mapped: fault-in %.2f s "
               "(%.1f M pages/s); %llu table pages, %.2f bytes of simulator memory per guest page\n",
               (unsigned long long)gib, levels, (unsigned long long)pages, secs,
               pages / secs / 1e6, (unsigned long long)tables,
               (double)guest_vm_table_bytes(vm) / (double)frames);
        walks("uniform random gva -> gfn", as, pages, false);
        walks("sequential gva -> gfn", as, pages, true);
        if (levels == 4)
            neighbours(as, pages);
        guest_vm_free(vm);
    }
    {
        struct guest_as *as;
        double secs;
        struct guest_vm *vm = build(frames, 4, 0.0, true, pages, false, &as, &secs);
        printf("%llu GiB guest, 2 MiB pages (thp): fault-in %.2f s, %llu table pages\n",
               (unsigned long long)gib, secs, (unsigned long long)guest_vm_nr_tables(vm));
        walks("uniform random gva -> gfn (2 MiB)", as, pages, false);
        guest_vm_free(vm);
    }
    frag_table(quick ? (256ull << 8) : (4ull << 18));
    printf("\npeak RSS %.1f MiB\n", peak_rss_kib() / 1024.0);
    return 0;
}
