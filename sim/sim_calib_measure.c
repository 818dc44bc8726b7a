/*
 * sim_calib_measure.c - `vmsim calibrate`'s measurements on this machine:
 * page copies out of and into a buffer far larger than the caches, zero
 * scans, zstd on the content samples, and the provenance (sim_calib.h).
 * The write-protect fault and un-protect are sim_calib_fault.c, the small
 * write into the page cache sim_calib_write.c, the anonymous fault
 * sim_calib_anon.c, the cryptography sim_calib_crypto.c.
 *
 * Based on: QEMU's buffer_is_zero() (util/bufferiszero.c: the AVX2, SSE2
 * and word-loop variants it picks from at start-up) for the zero scan;
 * the content classes' real sample pages (sim_content.c) for zstd.
 * Every figure is the median of timed samples (CLOCK_MONOTONIC), each
 * sample long enough (a batch of pages, a 1 MiB pass) that the clock's
 * own cost and resolution do not show.  Page order is a fixed
 * pseudo-random permutation, so the hardware prefetcher cannot follow
 * from page to page, and every timed page is used once: the three page
 * figures take disjoint thirds of the buffer.
 *
 * Not measured: the first touch of a page (the buffer is filled before
 * timing), huge-page effects beyond what the kernel's THP default gives
 * the buffer, and several cores competing for memory bandwidth.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_calib.h"
#include "sim_content.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define DEF_BATCH_PAGES 64             /* ~50 us: most samples see no preemption */
#define DEF_MAX_SAMPLES SIM_CALIB_DEF_SAMPLES
#define DEF_ZSTD_REPS 31
#define DEF_NR_FAULTS 8192
#define WARMUP_SAMPLES 2                 /* timed but dropped: code and TLB warm-up */
#define FRAME_PAGES 16                   /* a buffered block at its default block_pages */
#define FRAME_BYTES (FRAME_PAGES * VM_PAGE_SIZE)
#define PERM_SEED 0x63616c6962ull        /* fixed: the same page order on every run */

const double sim_calib_mix[SIM_CONTENT_NR] = { 0.25, 0.25, 0.10, 0.40 };
const char *const sim_calib_rate_names[SIM_CALIB_NR_RATES] = {
    "zero", "text", "code", "random", "mix"
};
static const int zstd_levels[] = { SIM_CONTENT_ZSTD_LEVEL, 3 };

uint64_t sim_calib_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * VM_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Keep the compiler from dropping stores nobody reads. */
static inline void escape(void *p)
{
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

static void progress(const struct sim_calib_opts *o, const char *what)
{
    if (o->progress)
        fprintf(stderr, "vmsim: calibrate: %s\n", what);
}

/* ------------------------------------------------------------ statistics */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, uint32_t n, double q)
{
    double pos = q * (double)(n - 1);
    uint32_t lo = (uint32_t)pos;
    uint32_t hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - (double)lo) * (sorted[hi] - sorted[lo]);
}

void sim_calib_fig_from(double *v, uint32_t n, struct sim_calib_fig *f)
{
    memset(f, 0, sizeof *f);
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_double);
    f->median = quantile(v, n, 0.5);
    f->p10 = quantile(v, n, 0.1);
    f->p90 = quantile(v, n, 0.9);
    f->samples = n;
}

/* ------------------------------------------------------------ provenance */

static void cpu_model(char *buf, size_t len)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(buf, len, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (*v)
            snprintf(buf, len, "%s", v);
        break;
    }
    fclose(f);
}

double sim_calib_loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

void sim_calib_provenance(struct sim_calib *c)
{
    cpu_model(c->cpu_model, sizeof c->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->cores = n > 0 ? (int)n : 1;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(c->kernel, sizeof c->kernel, "%s %s %s %s", u.sysname, u.release, u.version,
                 u.machine);
    else
        snprintf(c->kernel, sizeof c->kernel, "unknown");
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(c->date, sizeof c->date, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(c->date, sizeof c->date, "unknown");
    snprintf(c->vmsim_version, sizeof c->vmsim_version, "%s", PACKAGE_VERSION);
    snprintf(c->zstd_version, sizeof c->zstd_version, "%s", ZSTD_versionString());
}

/* ------------------------------------------------------------ pages */

/* The last-level cache's size as sysconf reports it, or 0. */
static uint64_t llc_bytes(void)
{
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (llc <= 0)
        llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return llc > 0 ? (uint64_t)llc : 0;
}

/* 1 GiB, or twice the last-level cache if more, at most a quarter of RAM. */
static uint64_t default_buffer_bytes(uint64_t llc)
{
    uint64_t want = GiB;
    if (2 * llc > want)
        want = 2 * llc;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0 && want > (uint64_t)pages * (uint64_t)psz / 4)
        want = (uint64_t)pages * (uint64_t)psz / 4;
    want &= ~(2 * MiB - 1);
    return want < 64 * MiB ? 64 * MiB : want;
}

/* ------------------------------------------------------------ zero test */

/*
 * The zero test QEMU runs on every page it saves (buffer_is_zero(),
 * util/bufferiszero.c), written here after its algorithm: a test of the
 * page's first and last bytes, then the whole page OR-reduced block by
 * block, the block's result compared with zero before the next block is
 * loaded (a non-zero page exits early).  QEMU picks its fastest variant
 * at start-up (select_accel_cpuinfo): AVX2 (buffer_zero_avx2: 32-byte
 * vectors, 256-byte blocks), else SSE2 (buffer_zero_sse2: 16-byte vectors,
 * 128-byte blocks), else the plain C word loop (buffer_is_zero_int_ge256:
 * 8-byte words, 64-byte blocks); so does sim_calib_zero_best() here, with
 * the compiler's vector intrinsics where the target has them.  Each takes
 * a 32-byte aligned buffer whose length is a multiple of 256 (a page).
 */
static bool zero_int(const void *buf, size_t len)
{
    const uint64_t *w = buf;
    const size_t nw = len / sizeof *w;
    uint64_t t = w[nw - 1] | w[0];
    for (size_t i = 0; i < nw; i += 8) {
        if (t)
            return false;
        t = w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
    }
    return t == 0;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_ZERO_SSE2 1

static bool sse2_is_zero(__m128i v)
{
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) == 0xFFFF;
}

static bool zero_sse2(const void *buf, size_t len)
{
    const __m128i *p = buf, *e = p + len / sizeof *p;
    __m128i v = _mm_or_si128(p[0], e[-1]);
    for (; p < e; p += 8) {
        if (!sse2_is_zero(v))
            return false;
        /* two chains of ORs, joined once per block */
        __m128i a = _mm_or_si128(p[0], p[1]), b = _mm_or_si128(p[2], p[3]);
        a = _mm_or_si128(a, p[4]);
        b = _mm_or_si128(b, p[5]);
        a = _mm_or_si128(a, p[6]);
        b = _mm_or_si128(b, p[7]);
        v = _mm_or_si128(a, b);
    }
    return sse2_is_zero(v);
}
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define HAVE_ZERO_AVX2 1

__attribute__((target("avx2"))) static bool avx2_is_zero(__m256i v)
{
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())) ==
           0xFFFFFFFFu;
}

/* Built for AVX2 whatever the compiler's target; called only where the
 * CPU has it (__builtin_cpu_supports). */
__attribute__((target("avx2"))) static bool zero_avx2(const void *buf, size_t len)
{
    const __m256i *p = buf, *e = p + len / sizeof *p;
    __m256i v = _mm256_or_si256(p[0], e[-1]);
    for (; p < e; p += 8) {
        if (!avx2_is_zero(v))
            return false;
        __m256i a = _mm256_or_si256(p[0], p[1]), b = _mm256_or_si256(p[2], p[3]);
        a = _mm256_or_si256(a, p[4]);
        b = _mm256_or_si256(b, p[5]);
        a = _mm256_or_si256(a, p[6]);
        b = _mm256_or_si256(b, p[7]);
        v = _mm256_or_si256(a, b);
    }
    return avx2_is_zero(v);
}
#endif

sim_calib_zero_test sim_calib_zero_variant(const char *method)
{
    if (!method)
        return NULL;
#ifdef HAVE_ZERO_AVX2
    __builtin_cpu_init();
    if (strcmp(method, SIM_CALIB_ZERO_AVX2) == 0)
        return __builtin_cpu_supports("avx2") ? zero_avx2 : NULL;
#endif
#ifdef HAVE_ZERO_SSE2
    if (strcmp(method, SIM_CALIB_ZERO_SSE2) == 0)
        return zero_sse2;
#endif
    if (strcmp(method, SIM_CALIB_ZERO_INT) == 0)
        return zero_int;
    return NULL;
}

sim_calib_zero_test sim_calib_zero_best(const char **method)
{
    static const char *const prefer[] = { SIM_CALIB_ZERO_AVX2, SIM_CALIB_ZERO_SSE2,
                                          SIM_CALIB_ZERO_INT };
    for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
        sim_calib_zero_test fn = sim_calib_zero_variant(prefer[i]);
        if (fn) {
            if (method)
                *method = prefer[i];
            return fn;
        }
    }
    assert(!"the word loop is always there");
    return zero_int;
}

/* ------------------------------------------------------------ page figures */

enum page_op { OP_COPY, OP_INSTALL, OP_SCAN };

/*
 * Time samples of `batch` pages each, the pages perm[0..nr) of buf, by op
 * (copy out of buf, install into buf, scan in buf); ns per page into *fig.
 * VM_EIO if a scanned page was not zero (the buffer must be).
 */
static int time_pages(unsigned char *buf, const uint32_t *perm, uint32_t nr, uint32_t batch,
                      uint32_t max_samples, enum page_op op, struct sim_calib_fig *fig,
                      struct vm_diag *d)
{
    static _Alignas(64) unsigned char page[VM_PAGE_SIZE];   /* hot: source or destination */
    uint32_t n = nr / batch;
    if (n > max_samples + WARMUP_SAMPLES)
        n = max_samples + WARMUP_SAMPLES;
    if (n <= WARMUP_SAMPLES)
        return vm_diag_set(d, VM_EINVAL, "calibration buffer too small: %u pages for samples "
                           "of %u", nr, batch);
    double *v = malloc(sizeof *v * n);
    if (!v)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for %u samples", n);
    memset(page, 0, sizeof page);
    uint64_t zero = 0;
    sim_calib_zero_test is_zero = sim_calib_zero_best(NULL);
    for (uint32_t s = 0; s < n; s++) {
        const uint32_t *pp = perm + (size_t)s * batch;
        uint64_t t0 = sim_calib_now_ns();
        switch (op) {
        case OP_COPY:
            for (uint32_t i = 0; i < batch; i++) {
                memcpy(page, buf + (size_t)pp[i] * VM_PAGE_SIZE, VM_PAGE_SIZE);
                escape(page);
            }
            break;
        case OP_INSTALL:
            for (uint32_t i = 0; i < batch; i++) {
                unsigned char *dst = buf + (size_t)pp[i] * VM_PAGE_SIZE;
                memcpy(dst, page, VM_PAGE_SIZE);
                escape(dst);
            }
            break;
        case OP_SCAN:
            for (uint32_t i = 0; i < batch; i++)
                zero += is_zero(buf + (size_t)pp[i] * VM_PAGE_SIZE, VM_PAGE_SIZE);
            break;
        }
        uint64_t t1 = sim_calib_now_ns();
        v[s] = (double)(t1 - t0) / batch;
    }
    if (op == OP_SCAN && zero != (uint64_t)n * batch) {
        free(v);
        return vm_diag_set(d, VM_EIO, "zero scan: %" PRIu64 " of %" PRIu64 " pages of the "
                           "zero-filled buffer were not zero", (uint64_t)n * batch - zero,
                           (uint64_t)n * batch);
    }
    sim_calib_fig_from(v + WARMUP_SAMPLES, n - WARMUP_SAMPLES, fig);
    free(v);
    return 0;
}

static int measure_pages(const struct sim_calib_opts *o, struct sim_calib *c, struct vm_diag *d)
{
    uint64_t bytes = c->buffer_bytes;
    uint64_t nr = bytes / VM_PAGE_SIZE;
    if (nr > UINT32_MAX)
        nr = UINT32_MAX;
    char sz[32];
    vm_units_fmt_size(bytes, sz, sizeof sz);
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE;              /* the kernel allocates in one go: faster than faults */
#endif
    unsigned char *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (buf == MAP_FAILED)
        return vm_diag_set(d, VM_ENOMEM, "cannot map a %s calibration buffer: %s", sz,
                           strerror(errno));
    uint32_t *perm = malloc(sizeof *perm * nr);
    if (!perm) {
        munmap(buf, bytes);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for a %" PRIu64 "-page order", nr);
    }
    char what[96];
    snprintf(what, sizeof what, "filling a %s buffer", sz);
    progress(o, what);
    /* written from here, not just mapped: untouched pages would all read the one zero
     * page, and in a VM the first touch of a page can trap to the hypervisor */
    memset(buf, 0, bytes);
    struct vm_rand r;
    vm_rand_init(&r, PERM_SEED, 0);
    for (uint32_t i = 0; i < nr; i++)
        perm[i] = i;
    for (uint32_t i = (uint32_t)nr - 1; i > 0; i--) {
        uint32_t j = (uint32_t)vm_rand_below(&r, (uint64_t)i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    uint32_t third = (uint32_t)(nr / 3);
    const char *zero_method = SIM_CALIB_ZERO_INT;
    sim_calib_zero_best(&zero_method);
    snprintf(c->zero_method, sizeof c->zero_method, "%s", zero_method);
    progress(o, "page copies, installs and zero scans");
    int rc = time_pages(buf, perm, third, c->batch_pages, o->max_samples, OP_COPY,
                        &c->page_copy_ns, d);
    if (rc == 0)
        rc = time_pages(buf, perm + third, third, c->batch_pages, o->max_samples, OP_INSTALL,
                        &c->page_install_ns, d);
    if (rc == 0)
        rc = time_pages(buf, perm + 2 * (size_t)third, third, c->batch_pages, o->max_samples,
                        OP_SCAN, &c->zero_scan_ns, d);
    free(perm);
    munmap(buf, bytes);
    return rc;
}

/* ------------------------------------------------------------ zstd */

#define NR_FRAMES (SIM_CONTENT_SAMPLE_BYTES / FRAME_BYTES)

struct zbench {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    unsigned char *frames[NR_FRAMES];
    size_t zlen[NR_FRAMES];
    size_t cap;
    unsigned char *out;                 /* one decompressed frame */
    double *t;                          /* [frame][rep]: ns */
};

/* Compress (or decompress, checked when `verify`) frame f of sample;
 * its time in ns, or 0 after setting d. */
static uint64_t zframe(struct zbench *z, const unsigned char *sample, int f, int level,
                       bool decompress, bool verify, struct vm_diag *d)
{
    const unsigned char *in = sample + (size_t)f * FRAME_BYTES;
    size_t r;
    uint64_t t0 = sim_calib_now_ns();
    if (!decompress) {
        r = ZSTD_compressCCtx(z->cctx, z->frames[f], z->cap, in, FRAME_BYTES, level);
        if (!ZSTD_isError(r))
            z->zlen[f] = r;
    } else {
        r = ZSTD_decompressDCtx(z->dctx, z->out, FRAME_BYTES, z->frames[f], z->zlen[f]);
    }
    uint64_t t = sim_calib_now_ns() - t0;
    if (ZSTD_isError(r)) {
        vm_diag_set(d, VM_EIO, "zstd level %d: %s", level, ZSTD_getErrorName(r));
        return 0;
    }
    if (decompress && (r != FRAME_BYTES || (verify && memcmp(z->out, in, FRAME_BYTES) != 0))) {
        vm_diag_set(d, VM_EIO, "zstd level %d: a frame did not decompress to its input", level);
        return 0;
    }
    return t ? t : 1;
}

/*
 * The rate over the whole sample, robust to preemption: every frame is
 * timed `reps` times (after an untimed, checked pass), and the sample's
 * time is the sum over frames of each frame's median (p10, p90: the sums
 * of those).  A frame takes well under a scheduler time slice, so a
 * preempted sample is an outlier of its frame, not the median.
 */
static int zrate(struct zbench *z, const unsigned char *sample, int level, bool decompress,
                 uint32_t reps, struct sim_calib_fig *fig, struct vm_diag *d)
{
    for (int f = 0; f < (int)NR_FRAMES; f++)
        if (!zframe(z, sample, f, level, decompress, true, d))
            return VM_EIO;
    for (uint32_t r = 0; r < reps; r++)
        for (int f = 0; f < (int)NR_FRAMES; f++) {
            uint64_t t = zframe(z, sample, f, level, decompress, false, d);
            if (!t)
                return VM_EIO;
            z->t[(size_t)f * reps + r] = (double)t;
        }
    double med = 0, fast = 0, slow = 0;
    for (int f = 0; f < (int)NR_FRAMES; f++) {
        struct sim_calib_fig ff;
        sim_calib_fig_from(z->t + (size_t)f * reps, reps, &ff);
        med += ff.median;
        fast += ff.p10;
        slow += ff.p90;
    }
    const double bytes_ns = (double)SIM_CONTENT_SAMPLE_BYTES * 1e9;
    *fig = (struct sim_calib_fig){ .median = bytes_ns / med, .p10 = bytes_ns / slow,
                                   .p90 = bytes_ns / fast, .samples = reps };
    return 0;
}

/* The mix's rate: bytes of the mix over the time its classes take. */
static void mix_rate(struct sim_calib_fig *rates)
{
    double s = 0;
    for (int c = 0; c < SIM_CONTENT_NR; c++)
        s += sim_calib_mix[c] / rates[c].median;
    memset(&rates[SIM_CALIB_MIX], 0, sizeof rates[SIM_CALIB_MIX]);
    rates[SIM_CALIB_MIX].median = 1 / s;
}

static int measure_zstd(const struct sim_calib_opts *o, struct sim_calib *c, struct vm_diag *d)
{
    int rc = sim_content_init(d);
    if (rc)
        return rc;
    struct zbench z = { .cctx = ZSTD_createCCtx(), .dctx = ZSTD_createDCtx(),
                        .cap = ZSTD_compressBound(FRAME_BYTES), .out = malloc(FRAME_BYTES),
                        .t = malloc(sizeof(double) * NR_FRAMES * o->zstd_reps) };
    bool ok = z.cctx && z.dctx && z.out && z.t;
    for (int f = 0; f < (int)NR_FRAMES; f++)
        ok = ok && (z.frames[f] = malloc(z.cap)) != NULL;
    if (!ok)
        rc = vm_diag_set(d, VM_ENOMEM, "out of memory for zstd");
    progress(o, "zstd compression and decompression");
    c->nr_levels = (int)(sizeof zstd_levels / sizeof zstd_levels[0]);
    for (int l = 0; rc == 0 && l < c->nr_levels; l++) {
        c->levels[l] = zstd_levels[l];
        for (int k = 0; rc == 0 && k < SIM_CONTENT_NR; k++) {
            const unsigned char *sample = sim_content_sample(k);
            rc = zrate(&z, sample, zstd_levels[l], false, o->zstd_reps,
                       &c->compress_bps[l][k], d);
            if (rc == 0)
                rc = zrate(&z, sample, zstd_levels[l], true, o->zstd_reps,
                           &c->decompress_bps[l][k], d);
        }
        if (rc == 0) {
            mix_rate(c->compress_bps[l]);
            mix_rate(c->decompress_bps[l]);
        }
    }
    for (int f = 0; f < (int)NR_FRAMES; f++)
        free(z.frames[f]);
    free(z.out);
    free(z.t);
    ZSTD_freeCCtx(z.cctx);
    ZSTD_freeDCtx(z.dctx);
    return rc;
}

/* ------------------------------------------------------------ all */

int sim_calib_measure(const struct sim_calib_opts *opts, struct sim_calib *out, struct vm_diag *d)
{
    struct sim_calib_opts o = *opts;
    uint64_t llc = llc_bytes();
    if (!o.buffer_bytes)
        o.buffer_bytes = default_buffer_bytes(llc);
    if (!o.batch_pages)
        o.batch_pages = DEF_BATCH_PAGES;
    if (!o.max_samples)
        o.max_samples = DEF_MAX_SAMPLES;
    if (!o.zstd_reps)
        o.zstd_reps = DEF_ZSTD_REPS;
    if (!o.nr_faults)
        o.nr_faults = DEF_NR_FAULTS;
    memset(out, 0, sizeof *out);
    sim_calib_provenance(out);
    out->buffer_bytes = o.buffer_bytes & ~(uint64_t)(VM_PAGE_SIZE - 1);
    out->llc_bytes = llc;
    out->loadavg[0] = sim_calib_loadavg();
    out->batch_pages = o.batch_pages;
    out->quick = o.quick;
    int rc = measure_pages(&o, out, d);
    if (rc == 0)
        rc = measure_zstd(&o, out, d);
    if (rc == 0) {
        progress(&o, "write-protect faults");
        rc = sim_calib_wp_fault(o.wp, o.nr_faults, &out->wp_fault_ns, out->wp_method,
                                out->wp_note, d);
    }
    if (rc == 0) {
        progress(&o, "write-protect removals");
        rc = sim_calib_wp_unprotect(o.wp, o.nr_faults, &out->wp_unprotect_ns,
                                    out->unprotect_method, out->unprotect_note, d);
    }
    if (rc == 0) {
        progress(&o, "small writes into the page cache");
        rc = sim_calib_small_write(o.tmpdir, o.batch_pages, o.max_samples,
                                   &out->small_write_ns, out->small_write_fs, d);
    }
    if (rc == 0) {
        progress(&o, "anonymous first-write faults");
        rc = sim_calib_anon_fault(o.nr_faults, o.batch_pages, o.max_samples,
                                  &out->anon_fault_ns, d);
        if (rc == 0)
            snprintf(out->anon_method, sizeof out->anon_method, "%s", SIM_CALIB_ANON_METHOD);
    }
    if (rc == 0) {
        progress(&o, "SHA-256, signatures and index probes (libcrypto)");
        out->crypto.quick = o.quick;
        rc = sim_calib_crypto(o.max_samples, &out->crypto, d);
    }
    out->loadavg[1] = sim_calib_loadavg();
    return rc;
}
