/*
 * sim_content.c - compressed page sizes measured with zstd on real sample
 * pages of each content class (see sim_content.h).
 *
 * Based on: the samples in workloads/content/ (English/C text from Debian
 * license texts and /usr/include headers; the .text section of Debian's
 * libc.so.6), a seeded xoshiro byte stream for random pages, and zero
 * pages.  Each sample is 1 MiB = 256 distinct pages.  For a frame of n
 * pages (n a power of two, 1..4096) the size is measured by compressing
 * n consecutive sample pages (wrapping) as one zstd frame at level 1; for
 * n < 256 every disjoint group of n pages of the sample is compressed and
 * the mean is taken, so a small frame's size does not hang on one page.
 * Wrapping repeats a page only 1 MiB later, beyond level 1's 512 KiB
 * window, so the repetition is not exploited.  Results are cached per
 * (class, n) on first use.
 *
 * Not modelled: content that changes class when the guest writes it, and
 * dictionary or cross-frame compression.
 */
#include "sim_content.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define SAMPLE_BYTES SIM_CONTENT_SAMPLE_BYTES
#define SAMPLE_PAGES (SAMPLE_BYTES / VM_PAGE_SIZE)
#define MAX_LOG2 12                       /* frames of up to 4096 pages are measured */
#define ZSTD_LEVEL SIM_CONTENT_ZSTD_LEVEL
#define RANDOM_SAMPLE_SEED 0x7a6e5f52414e44ull   /* constant: the sample is fixed */

static unsigned char *samples[SIM_CONTENT_NR];
static uint64_t measured[SIM_CONTENT_NR][MAX_LOG2 + 1];   /* 0 = not measured yet */
static int init_rc = 1;                                   /* 1 = not tried */

static int load_file(const char *dir, const char *name, unsigned char **out,
                     struct vm_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vm_diag_set(d, VM_ENOENT, "cannot open content sample '%s': %s", path,
                           strerror(errno));
    unsigned char *buf = malloc(SAMPLE_BYTES);
    if (!buf) {
        fclose(f);
        return vm_diag_set(d, VM_ENOMEM, "out of memory loading '%s'", path);
    }
    size_t got = fread(buf, 1, SAMPLE_BYTES, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != SAMPLE_BYTES) {
        free(buf);
        return vm_diag_set(d, VM_EIO, "content sample '%s': expected %u bytes, read %zu",
                           path, SAMPLE_BYTES, got);
    }
    *out = buf;
    return 0;
}

static void data_dir(char *buf, size_t len)
{
    const char *s = getenv("VMSIM_DATADIR");
    if (s && *s) {
        snprintf(buf, len, "%s", s);
        return;
    }
    s = getenv("VMSIM_SRCDIR");
    snprintf(buf, len, "%s/workloads/content", s && *s ? s : VMSIM_SRCDIR);
}

int sim_content_init(struct vm_diag *d)
{
    if (init_rc == 0)
        return 0;
    char dir[4096];
    data_dir(dir, sizeof dir);
    unsigned char *text = NULL, *code = NULL;
    int rc = load_file(dir, "text.sample", &text, d);
    if (rc == 0)
        rc = load_file(dir, "code.sample", &code, d);
    unsigned char *zero = calloc(1, SAMPLE_BYTES);
    unsigned char *rnd = malloc(SAMPLE_BYTES);
    if (rc == 0 && (!zero || !rnd))
        rc = vm_diag_set(d, VM_ENOMEM, "out of memory for content samples");
    if (rc < 0) {
        free(text);
        free(code);
        free(zero);
        free(rnd);
        init_rc = rc;
        return rc;
    }
    struct vm_rand r;
    vm_rand_init(&r, RANDOM_SAMPLE_SEED, 0);
    for (size_t i = 0; i < SAMPLE_BYTES; i += 8) {
        uint64_t x = vm_rand_u64(&r);
        memcpy(rnd + i, &x, 8);
    }
    samples[SIM_CONTENT_ZERO] = zero;
    samples[SIM_CONTENT_TEXT] = text;
    samples[SIM_CONTENT_CODE] = code;
    samples[SIM_CONTENT_RANDOM] = rnd;
    init_rc = 0;
    return 0;
}

/* Mean zstd size of frames of 2^lg consecutive sample pages of class c;
 * 0 when the samples are not loaded or zstd fails. */
static uint64_t measure(int c, unsigned lg)
{
    uint32_t n = 1u << lg;
    size_t in_len = (size_t)n * VM_PAGE_SIZE;
    size_t cap = ZSTD_compressBound(in_len);
    unsigned char *in = n > SAMPLE_PAGES ? malloc(in_len) : NULL;
    unsigned char *out = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    uint64_t total = 0;
    uint32_t groups = n >= SAMPLE_PAGES ? 1 : SAMPLE_PAGES / n;
    bool ok = out && cctx && (n <= SAMPLE_PAGES || in);
    if (ok && in) {
        for (size_t off = 0; off < in_len; off += SAMPLE_BYTES)
            memcpy(in + off, samples[c], in_len - off < SAMPLE_BYTES ? in_len - off : SAMPLE_BYTES);
    }
    for (uint32_t g = 0; ok && g < groups; g++) {
        const unsigned char *src = in ? in : samples[c] + (size_t)g * in_len;
        size_t z = ZSTD_compressCCtx(cctx, out, cap, src, in_len, ZSTD_LEVEL);
        if (ZSTD_isError(z))
            ok = false;
        else
            total += z;
    }
    ZSTD_freeCCtx(cctx);
    free(out);
    free(in);
    if (!ok)
        return 0;
    uint64_t mean = (total + groups / 2) / groups;
    return mean ? mean : 1;
}

/* Measured size of a frame of 2^lg pages (lg <= MAX_LOG2). */
static uint64_t frame_size(int c, unsigned lg)
{
    if (!measured[c][lg]) {
        if (init_rc != 0 && sim_content_init(NULL) < 0)
            return 0;
        measured[c][lg] = measure(c, lg);
    }
    return measured[c][lg];
}

/* Bytes per page of class c in a frame of n >= 1 pages: the measurement
 * for n rounded up to a power of two (capped at 4096) divided by it. */
static double per_page(int c, uint32_t n)
{
    unsigned lg = 0;
    while (lg < MAX_LOG2 && (1u << lg) < n)
        lg++;
    uint64_t s = frame_size(c, lg);
    if (s == 0)           /* samples missing: charge the page uncompressed */
        return VM_PAGE_SIZE;
    return (double)s / (double)(1u << lg);
}

uint64_t sim_content_size(int content_class, uint32_t n)
{
    if (n == 0 || content_class < 0 || content_class >= SIM_CONTENT_NR)
        return 0;
    uint64_t s = (uint64_t)llround(per_page(content_class, n) * n);
    return s ? s : 1;
}

double sim_content_page_size(int content_class, uint32_t n)
{
    if (content_class < 0 || content_class >= SIM_CONTENT_NR)
        return VM_PAGE_SIZE;
    double p = per_page(content_class, n ? n : 1);
    return p < 1.0 ? 1.0 : p;
}

const unsigned char *sim_content_sample(int content_class)
{
    if (init_rc != 0 || content_class < 0 || content_class >= SIM_CONTENT_NR)
        return NULL;
    return samples[content_class];
}
