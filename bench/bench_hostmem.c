/*
 * bench_hostmem.c - speed and memory of host memory with swap
 * (models/hostmem) on one core, without SimGrid: a guest replays random
 * accesses (uniform, or Zipf 0.8 over its frames) with host memory at
 * half the guest; a resident frame's access sets its referenced bit and
 * reports a use, an absent one is admitted with the next 7 absent frames
 * as a prefetch (trimmed to hostmem_room()).  Reports accesses and faults
 * per second, evictions, and bytes of model state per guest frame.
 *
 * usage: bench_hostmem [--quick]     (--quick: a 1 GiB guest instead of 16 GiB)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/vm_bitmap.h"
#include "base/vm_rand.h"
#include "hostmem/hostmem.h"

#define NR_ACCESSES (nr_accesses)
static uint32_t nr_accesses = 20u << 20;

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

static bool young(void *data, uint64_t frame)
{
    uint64_t *bits = data;
    bool was = vm_bitmap_test(bits, frame);
    vm_bitmap_clear(bits, frame);
    return was;
}

static void run(const char *label, uint64_t nr_frames, const uint64_t *addrs)
{
    uint64_t *bits = vm_bitmap_new(nr_frames);
    struct hostmem *hm;
    struct vm_diag d;
    struct hostmem_cfg cfg = { .nr_frames = nr_frames, .max_resident = nr_frames / 2 };
    struct hostmem_admission *adm = malloc(sizeof(*adm));
    vm_diag_clear(&d);
    if (bits == NULL || adm == NULL || hostmem_new(&cfg, young, bits, &hm, &d) != 0) {
        fprintf(stderr, "bench_hostmem: %s\n", d.msg[0] ? d.msg : "out of memory");
        exit(1);
    }
    uint64_t faults = 0, batch[8];
    double t0 = now_s();
    for (uint32_t i = 0; i < NR_ACCESSES; i++) {
        uint64_t f = addrs[i];
        if (hostmem_is_resident(hm, f)) {
            vm_bitmap_set(bits, f);
            hostmem_use(hm, f);
            continue;
        }
        uint64_t room = hostmem_room(hm);
        uint32_t n = 1;
        batch[0] = f;
        for (uint64_t g = f + 1; g < nr_frames && n < 8 && n < room; g++)
            if (!hostmem_is_resident(hm, g))
                batch[n++] = g;
        hostmem_admit(hm, batch, n, adm);
        vm_bitmap_set(bits, f);
        faults++;
    }
    double secs = now_s() - t0;
    const struct hostmem_stats *st = hostmem_stats(hm);
    printf("%-9s %6.1f M acc/s  %6.2f M faults/s  faults %8.0f k  evictions %8.0f k  "
           "writes %8.0f k  prefetch hits %5.1f%%  check %llu\n",
           label, NR_ACCESSES / secs / 1e6, faults / secs / 1e6, faults / 1e3,
           st->evictions / 1e3, st->writes / 1e3,
           st->prefetched ? 100.0 * st->prefetch_hits / st->prefetched : 0.0,
           (unsigned long long)hostmem_check(hm));
    hostmem_free(hm);
    vm_bitmap_free(bits);
    free(adm);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 2)
        nr_accesses = (uint32_t)strtoul(argv[2], NULL, 0);
    uint64_t nr_frames = (quick ? 1ull << 30 : 16ull << 30) >> 12;
    uint64_t *addrs = malloc(NR_ACCESSES * sizeof(*addrs));
    struct vm_rand r;
    struct vm_zipf z;
    if (addrs == NULL || vm_zipf_init(&z, nr_frames, 0.8) != 0)
        return 1;
    printf("guest %llu frames (%s), host memory half of it, %u accesses, batches of up to 8\n",
           (unsigned long long)nr_frames, quick ? "1 GiB" : "16 GiB", NR_ACCESSES);
    vm_rand_init(&r, 1, 1);
    for (uint32_t i = 0; i < NR_ACCESSES; i++)
        addrs[i] = vm_rand_below(&r, nr_frames);
    run("uniform", nr_frames, addrs);
    /* Zipf ranks scattered over the frames (rank * odd constant mod n) */
    for (uint32_t i = 0; i < NR_ACCESSES; i++)
        addrs[i] = (vm_zipf_draw(&z, &r) * 0x9e3779b97f4a7c15ull) % nr_frames;
    run("zipf-0.8", nr_frames, addrs);
    /* per frame: state, slot, ring position; per slot (one a frame): its
     * frame and a free bit; per resident frame (half): ring entry, open
     * bit and its summary */
    double per_frame = 1 + 4 + 4 + 4 + 1.0 / 8 + 0.5 * (4 + 1.0 / 8 + 1.0 / 512);
    printf("model state: %.2f bytes per guest frame; peak RSS %ld MiB (with %u MiB of "
           "addresses)\n", per_frame, peak_rss_kib() / 1024,
           (unsigned)(NR_ACCESSES * sizeof(*addrs) >> 20));
    free(addrs);
    return 0;
}
