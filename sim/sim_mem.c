/*
 * sim_mem.c - the guest memory model (sim_mem.h): per-page fingerprints
 * and bitmaps, a two-level guest page table filled by an allocator model,
 * content classes per 2 MiB region, the instant-content checker, and the
 * port_mem ops the mechanisms use.
 *
 * Based on: KVM's dirty log and write tracking (bitmaps collected and
 * cleared a word at a time), x86-64 page tables (a radix tree; here two
 * levels of 18 bits over 36-bit GVA page numbers, which measured 3x faster
 * than hashing on sparse address spaces), and a buddy allocator's free
 * list, in order after boot and scrambled in an aged guest.
 *
 * Not modelled: freeing guest pages, huge pages, several address spaces
 * (one page table for the traced process), content classes that change
 * when the guest writes a page.
 */
#include "sim_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_fp.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_content.h"

#define PT_BITS 18u
#define PT_LEAF_ENTRIES (1ull << PT_BITS)
#define PT_DIR_ENTRIES (1ull << PT_BITS)
#define GVA_PAGE_BITS (2u * PT_BITS)
_Static_assert(SIM_MEM_GVA_PAGE_LIMIT == 1ull << GVA_PAGE_BITS, "sim_mem.h says the limit");
_Static_assert(SIM_MEM_POISON_FP != VM_FP_ZERO, "a page made absent must not look zero");
#define CHUNK_SHIFT 9u                           /* 2 MiB = 512 pages */
#define CHUNK_PAGES (1u << CHUNK_SHIFT)
#define CHUNK_AGED 0x80000000u                   /* chunk_order flag: scramble its pages */
#define NO_LEAF UINT64_MAX

/* rand stream ids (vm_rand.h): independent of each other */
enum { STREAM_CLASS = 0x6d656d01, STREAM_AGE = 0x6d656d02 };

struct sim_mem_as {              /* one guest process's page table */
    uint32_t **dir;              /* PT_DIR_ENTRIES leaves, NULL until first translate */
    uint64_t last_hi;            /* dir index of last_leaf, NO_LEAF if none */
    uint32_t *last_leaf;
};

struct sim_mem_pt {
    struct sim_mem_as *as;       /* nr_as address spaces */
    uint32_t nr_as;
    uint64_t nr_leaves;          /* in all of them */
    uint32_t *chunk_order;       /* allocation chunk -> GPA chunk | CHUNK_AGED */
    uint64_t nr_chunks;
    uint64_t age_key;            /* seeds the in-chunk scramble */
};

static const struct port_mem_ops sim_mem_ops;

/* ---- allocator ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* A bijection of [0, 512) keyed by k: each step (add, odd multiply,
 * xor-shift right) is invertible modulo 2^9. */
static uint32_t scramble9(uint32_t x, uint64_t k)
{
    const uint32_t mask = CHUNK_PAGES - 1;
    x = (x + (uint32_t)k) & mask;
    x = (x * ((uint32_t)(k >> 9) | 1u)) & mask;
    x ^= x >> 5;
    x = (x * ((uint32_t)(k >> 20) | 1u)) & mask;
    x ^= x >> 4;
    x = (x + (uint32_t)(k >> 40)) & mask;
    return x;
}

/* GPA frame of the i-th allocation. */
static uint64_t alloc_frame(const struct sim_mem_pt *pt, uint64_t i)
{
    uint32_t e = pt->chunk_order[i >> CHUNK_SHIFT];
    uint64_t chunk = e & ~CHUNK_AGED;
    uint32_t off = (uint32_t)(i & (CHUNK_PAGES - 1));
    if (e & CHUNK_AGED)
        off = scramble9(off, mix64(pt->age_key ^ chunk));
    return (chunk << CHUNK_SHIFT) | off;
}

/* The free-list order, chunk by chunk: whole chunks are aged with
 * probability `frag`; the aged positions get the aged chunks in a seeded
 * random order (Fisher-Yates).  A partial last chunk stays in place. */
static int build_chunks(struct sim_mem_pt *pt, uint64_t nr_pages, double frag, uint64_t seed)
{
    pt->nr_chunks = (nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;
    uint64_t full = nr_pages >> CHUNK_SHIFT;
    pt->chunk_order = malloc(pt->nr_chunks * sizeof *pt->chunk_order);
    uint32_t *pos = malloc((full ? full : 1) * sizeof *pos);
    uint32_t *tgt = malloc((full ? full : 1) * sizeof *tgt);
    if (!pt->chunk_order || !pos || !tgt) {
        free(pos);
        free(tgt);
        return VM_ENOMEM;
    }
    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_AGE);
    pt->age_key = vm_rand_u64(&r);
    uint64_t nr_aged = 0;
    for (uint64_t k = 0; k < pt->nr_chunks; k++) {
        pt->chunk_order[k] = (uint32_t)k;
        if (k < full && frag > 0 && vm_rand_double(&r) < frag) {
            pos[nr_aged] = tgt[nr_aged] = (uint32_t)k;
            nr_aged++;
        }
    }
    for (uint64_t j = nr_aged; j > 1; j--) {
        uint64_t x = vm_rand_below(&r, j);
        uint32_t t = tgt[j - 1];
        tgt[j - 1] = tgt[x];
        tgt[x] = t;
    }
    for (uint64_t j = 0; j < nr_aged; j++)
        pt->chunk_order[pos[j]] = tgt[j] | CHUNK_AGED;
    free(pos);
    free(tgt);
    return 0;
}

int sim_mem_set_address_spaces(struct sim_mem *m, uint32_t n)
{
    struct sim_mem_pt *pt = m->pt;
    if (n < 1 || n > SIM_MEM_MAX_AS)
        return VM_EINVAL;
    if (n <= pt->nr_as)
        return 0;
    struct sim_mem_as *as = realloc(pt->as, n * sizeof *as);
    if (!as)
        return VM_ENOMEM;
    for (uint32_t i = pt->nr_as; i < n; i++)
        as[i] = (struct sim_mem_as){ .last_hi = NO_LEAF };
    pt->as = as;
    pt->nr_as = n;
    return 0;
}

int sim_mem_translate_as(struct sim_mem *m, uint32_t asid, uint64_t gva_page, uint64_t *gpa_page)
{
    struct sim_mem_pt *pt = m->pt;
    if (asid >= pt->nr_as)
        return VM_EINVAL;
    struct sim_mem_as *as = &pt->as[asid];
    uint64_t hi = gva_page >> PT_BITS;
    uint32_t *leaf = as->last_leaf;
    if (hi != as->last_hi) {
        if (gva_page >> GVA_PAGE_BITS)
            return VM_ERANGE;
        if (!as->dir) {
            as->dir = calloc(PT_DIR_ENTRIES, sizeof *as->dir);
            if (!as->dir)
                return VM_ENOMEM;
        }
        leaf = as->dir[hi];
        if (!leaf) {
            leaf = calloc(PT_LEAF_ENTRIES, sizeof *leaf);
            if (!leaf)
                return VM_ENOMEM;
            as->dir[hi] = leaf;
            pt->nr_leaves++;
        }
        as->last_hi = hi;
        as->last_leaf = leaf;
    }
    uint32_t *e = &leaf[gva_page & (PT_LEAF_ENTRIES - 1)];
    if (*e) {
        *gpa_page = *e - 1u;
        return 0;
    }
    if (m->mapped_pages == m->nr_pages)
        return VM_ENOSPC;
    uint64_t f = alloc_frame(pt, m->mapped_pages++);
    *e = (uint32_t)(f + 1);
    *gpa_page = f;
    return 0;
}

/* ---- content and the checker ---- */

static void ck_log(struct sim_mem *m, uint64_t page, uint64_t old_fp)
{
    if (m->ck_len == m->ck_cap) {
        size_t cap = m->ck_cap ? 2 * m->ck_cap : 4096;
        struct sim_mem_log *l = realloc(m->ck_log, cap * sizeof *l);
        if (!l)
            return;     /* instant_fp answers 0 for this page: the check fails */
        m->ck_log = l;
        m->ck_cap = cap;
    }
    m->ck_log[m->ck_len].page = page;
    m->ck_log[m->ck_len].fp = old_fp;
    m->ck_len++;
    m->ck_sorted = false;
}

void sim_mem_write_page(struct sim_mem *m, uint64_t gpa)
{
    if (m->ck_armed && !vm_bitmap_test_and_set(m->ck_saved, gpa))
        ck_log(m, gpa, m->fp[gpa]);
    m->fp[gpa] = vm_fp_page(m->seed, gpa, ++m->write_seq);
    vm_bitmap_set(m->dirty, gpa);
}

void sim_mem_checker_arm(struct sim_mem *m)
{
    memset(m->ck_saved, 0, VM_BITMAP_WORDS(m->nr_pages) * sizeof(uint64_t));
    m->ck_len = 0;
    m->ck_sorted = true;
    m->ck_armed = true;
}

void sim_mem_checker_disarm(struct sim_mem *m)
{
    m->ck_armed = false;
    free(m->ck_log);
    m->ck_log = NULL;
    m->ck_len = m->ck_cap = 0;
    m->ck_sorted = true;
}

static int log_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct sim_mem_log *)a)->page;
    uint64_t y = ((const struct sim_mem_log *)b)->page;
    return (x > y) - (x < y);
}

uint64_t sim_mem_instant_fp(struct sim_mem *m, uint64_t page)
{
    if (!m->ck_armed || !vm_bitmap_test(m->ck_saved, page))
        return m->fp[page];
    if (!m->ck_sorted) {
        qsort(m->ck_log, m->ck_len, sizeof *m->ck_log, log_cmp);
        m->ck_sorted = true;
    }
    size_t lo = 0, hi = m->ck_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ck_log[mid].page < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->ck_len && m->ck_log[lo].page == page)
        return m->ck_log[lo].fp;
    return 0;
}

int sim_mem_make_absent(struct sim_mem *m, const uint64_t *expect)
{
    assert(!m->ck_armed && "make_absent rewrites every page: the instant would be lost");
    size_t words = VM_BITMAP_WORDS(m->nr_pages);
    memset(m->present, 0, words * sizeof(uint64_t));
    m->nr_present = 0;
    m->all_present = m->nr_pages == 0;
    /* a page marked present without an install keeps the poison */
    for (uint64_t p = 0; p < m->nr_pages; p++)
        m->fp[p] = SIM_MEM_POISON_FP;
    m->expect_fp = NULL;
    m->restore_checked = m->restore_mismatch = 0;
    if (!expect)
        return 0;
    if (!m->rs_checked && !(m->rs_checked = vm_bitmap_new(m->nr_pages)))
        return VM_ENOMEM;
    memset(m->rs_checked, 0, words * sizeof(uint64_t));
    m->expect_fp = expect;
    return 0;
}

void sim_mem_restore_check_page(struct sim_mem *m, uint64_t gpa)
{
    vm_bitmap_set(m->rs_checked, gpa);
    m->restore_checked++;
    m->restore_mismatch += m->fp[gpa] != m->expect_fp[gpa];
}

void sim_mem_restore_finish(struct sim_mem *m)
{
    if (!m->expect_fp)
        return;
    for (uint64_t w = 0; w < VM_BITMAP_WORDS(m->nr_pages); w++) {
        uint64_t todo = m->present[w] & ~m->rs_checked[w];
        while (todo) {
            sim_mem_restore_check_page(m, w * 64 + (uint64_t)__builtin_ctzll(todo));
            todo &= todo - 1;
        }
    }
    m->expect_fp = NULL;
}

int sim_mem_class(const struct sim_mem *m, uint64_t page)
{
    return m->region_class[page >> CHUNK_SHIFT];
}

/* ---- life cycle ---- */

int sim_mem_new(const struct sim_exp_vm *vm, uint64_t seed, struct sim_mem **out,
                struct vm_diag *d)
{
    *out = NULL;
    if (vm->memory_bytes == 0 || vm->memory_bytes % VM_PAGE_SIZE)
        return vm_diag_set(d, VM_EINVAL, "'vm.memory': expected a positive multiple of 4KiB, "
                           "got %llu bytes", (unsigned long long)vm->memory_bytes);
    uint64_t nr_pages = vm->memory_bytes / VM_PAGE_SIZE;
    if (vm->memory_bytes > SIM_MEM_MAX_BYTES)
        return vm_diag_set(d, VM_ERANGE, "'vm.memory': at most %llu pages (8TiB), got %llu",
                           (unsigned long long)(SIM_MEM_MAX_BYTES / VM_PAGE_SIZE),
                           (unsigned long long)nr_pages);
    double cum[SIM_CONTENT_NR], sum = 0;
    for (int c = 0; c < SIM_CONTENT_NR; c++) {
        if (!(vm->content[c] >= 0))
            return vm_diag_set(d, VM_EINVAL, "'vm.content': fractions must be >= 0");
        sum += vm->content[c];
        cum[c] = sum;
    }
    if (!(sum > 0))
        return vm_diag_set(d, VM_EINVAL, "'vm.content': fractions must not all be 0");
    if (!(vm->fragmentation >= 0 && vm->fragmentation <= 1))
        return vm_diag_set(d, VM_EINVAL, "'vm.fragmentation': expected 0..1, got %g",
                           vm->fragmentation);
    int rc = sim_content_init(d);
    if (rc < 0)
        return rc;

    struct sim_mem *m = calloc(1, sizeof *m);
    if (!m)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for the guest memory model");
    m->base.ops = &sim_mem_ops;
    m->nr_pages = nr_pages;
    m->seed = seed;
    uint64_t nr_regions = (nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;
    m->fp = malloc(nr_pages * sizeof *m->fp);
    m->present = vm_bitmap_new(nr_pages);
    m->dirty = vm_bitmap_new(nr_pages);
    m->accessed = vm_bitmap_new(nr_pages);
    m->trace_w = vm_bitmap_new(nr_pages);
    m->trace_r = vm_bitmap_new(nr_pages);
    m->ck_saved = vm_bitmap_new(nr_pages);
    m->region_class = malloc(nr_regions);
    m->pt = calloc(1, sizeof *m->pt);
    if (!m->fp || !m->present || !m->dirty || !m->accessed || !m->trace_w || !m->trace_r ||
        !m->ck_saved || !m->region_class || !m->pt ||
        build_chunks(m->pt, nr_pages, vm->fragmentation, seed) < 0 ||
        sim_mem_set_address_spaces(m, 1) < 0) {
        sim_mem_free(m);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for a guest of %llu pages",
                           (unsigned long long)nr_pages);
    }
    vm_bitmap_set_range(m->present, 0, nr_pages);
    m->nr_present = nr_pages;
    m->all_present = true;
    m->ck_sorted = true;

    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_CLASS);
    for (uint64_t k = 0; k < nr_regions; k++) {
        double x = vm_rand_double(&r) * sum;
        int c = 0;
        while (c < SIM_CONTENT_NR - 1 && !(x < cum[c]))
            c++;
        m->region_class[k] = (uint8_t)c;
    }
    /* a zero region's pages are zero pages until the guest writes them */
    for (uint64_t p = 0; p < nr_pages; p++) {
        bool zero = m->region_class[p >> CHUNK_SHIFT] == SIM_CONTENT_ZERO;
        m->fp[p] = zero ? VM_FP_ZERO : vm_fp_page(seed, p, 0);
    }
    *out = m;
    return 0;
}

void sim_mem_free(struct sim_mem *m)
{
    if (!m)
        return;
    struct sim_mem_pt *pt = m->pt;
    if (pt) {
        for (uint32_t a = 0; a < pt->nr_as; a++) {
            if (!pt->as[a].dir)
                continue;
            for (uint64_t i = 0; i < PT_DIR_ENTRIES; i++)
                free(pt->as[a].dir[i]);
            free(pt->as[a].dir);
        }
        free(pt->as);
        free(pt->chunk_order);
        free(pt);
    }
    free(m->fp);
    vm_bitmap_free(m->present);
    vm_bitmap_free(m->dirty);
    vm_bitmap_free(m->accessed);
    vm_bitmap_free(m->trace_w);
    vm_bitmap_free(m->trace_r);
    vm_bitmap_free(m->ck_saved);
    vm_bitmap_free(m->rs_checked);
    free(m->ck_log);
    free(m->region_class);
    free(m);
}

size_t sim_mem_bytes(const struct sim_mem *m)
{
    size_t words = VM_BITMAP_WORDS(m->nr_pages);
    size_t b = sizeof *m + sizeof *m->pt;
    b += m->nr_pages * sizeof *m->fp;
    b += 6 * words * sizeof(uint64_t);               /* present dirty accessed trace_w trace_r ck_saved */
    b += (m->nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;   /* region_class */
    b += m->pt->nr_chunks * sizeof *m->pt->chunk_order;
    b += m->pt->nr_as * sizeof *m->pt->as;
    for (uint32_t a = 0; a < m->pt->nr_as; a++)
        if (m->pt->as[a].dir)
            b += PT_DIR_ENTRIES * sizeof *m->pt->as[a].dir;
    b += m->pt->nr_leaves * PT_LEAF_ENTRIES * sizeof(uint32_t);
    b += m->ck_cap * sizeof *m->ck_log;
    if (m->rs_checked)
        b += words * sizeof(uint64_t);
    return b;
}

/* ---- port_mem ---- */

static uint64_t op_nr_pages(const struct port_mem *pm)
{
    return ((const struct sim_mem *)pm)->nr_pages;
}

static void op_read(struct port_mem *pm, uint64_t first, uint32_t n, uint64_t *fps)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "read past the end of guest memory");
    memcpy(fps, m->fp + first, (size_t)n * sizeof *fps);
}

static void op_write(struct port_mem *pm, uint64_t first, uint32_t n, const uint64_t *fps)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "install past the end of guest memory");
    /* a page not compared yet is compared at its first access or at the
     * end; one already compared (the guest saw it) is compared again now */
    if (m->expect_fp)
        for (uint32_t i = 0; i < n; i++)
            if (vm_bitmap_test(m->rs_checked, first + i))
                m->restore_mismatch += fps[i] != m->expect_fp[first + i];
    if (m->ck_armed)
        for (uint32_t i = 0; i < n; i++)
            if (!vm_bitmap_test_and_set(m->ck_saved, first + i))
                ck_log(m, first + i, m->fp[first + i]);
    memcpy(m->fp + first, fps, (size_t)n * sizeof *fps);
}

static void op_set_trace(struct port_mem *pm, uint64_t first, uint64_t n,
                         enum port_mem_trace mode)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "trace range past the end of guest memory");
    uint64_t had = vm_bitmap_count_range(m->trace_w, first, n);
    switch (mode) {
    case PORT_MEM_TRACE_NONE:
        vm_bitmap_clear_range(m->trace_w, first, n);
        vm_bitmap_clear_range(m->trace_r, first, n);
        m->nr_traced -= had;
        break;
    case PORT_MEM_TRACE_WRITE:
        vm_bitmap_set_range(m->trace_w, first, n);
        vm_bitmap_clear_range(m->trace_r, first, n);
        m->nr_traced += n - had;
        break;
    case PORT_MEM_TRACE_RW:
        /* trace_w too, so nr_traced gates both tests in sim_mem_check */
        vm_bitmap_set_range(m->trace_w, first, n);
        vm_bitmap_set_range(m->trace_r, first, n);
        m->nr_traced += n - had;
        break;
    }
}

static void op_set_present(struct port_mem *pm, uint64_t first, uint64_t n, bool present)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "present range past the end of guest memory");
    uint64_t had = vm_bitmap_count_range(m->present, first, n);
    if (present) {
        vm_bitmap_set_range(m->present, first, n);
        m->nr_present += n - had;
    } else {
        vm_bitmap_clear_range(m->present, first, n);
        m->nr_present -= had;
    }
    m->all_present = m->nr_present == m->nr_pages;
}

static bool op_is_present(const struct port_mem *pm, uint64_t page)
{
    const struct sim_mem *m = (const struct sim_mem *)pm;
    return m->all_present || vm_bitmap_test(m->present, page);
}

static uint64_t collect(uint64_t *map, uint64_t *into, uint64_t nr_pages)
{
    uint64_t c = 0, words = VM_BITMAP_WORDS(nr_pages);
    for (uint64_t w = 0; w < words; w++) {
        uint64_t x = map[w];
        if (!x)
            continue;
        c += (uint64_t)__builtin_popcountll(x);
        if (into)
            into[w] |= x;
        map[w] = 0;
    }
    return c;
}

static uint64_t op_collect_dirty(struct port_mem *pm, uint64_t *into)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    return collect(m->dirty, into, m->nr_pages);
}

static uint64_t op_collect_accessed(struct port_mem *pm, uint64_t *into)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    return collect(m->accessed, into, m->nr_pages);
}

static uint64_t op_compress_size(const struct port_mem *pm, const uint64_t *pages, uint32_t n)
{
    const struct sim_mem *m = (const struct sim_mem *)pm;
    if (n == 0)
        return 0;
    uint32_t count[SIM_CONTENT_NR] = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        assert(pages[i] < m->nr_pages && "compress_size of a page outside guest memory");
        count[m->region_class[pages[i] >> CHUNK_SHIFT]]++;
    }
    double bytes = 0;
    for (int c = 0; c < SIM_CONTENT_NR; c++)
        if (count[c])
            bytes += sim_content_page_size(c, n) * count[c];
    uint64_t b = (uint64_t)(bytes + 0.5);
    return b ? b : 1;
}

static const struct port_mem_ops sim_mem_ops = {
    .version = PORT_MEM_VERSION,
    .name = "sim",
    .nr_pages = op_nr_pages,
    .read = op_read,
    .write = op_write,
    .set_trace = op_set_trace,
    .set_present = op_set_present,
    .is_present = op_is_present,
    .collect_dirty = op_collect_dirty,
    .collect_accessed = op_collect_accessed,
    .compress_size = op_compress_size,
};
