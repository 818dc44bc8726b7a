/*
 * sim_mem.c - the guest memory model (sim_mem.h): lines of per-page bits,
 * a two-level guest page table filled by an allocator model, content
 * classes per 2 MiB region, life cycle and the port_mem ops the
 * mechanisms use.  Contents, the checker and the restore check are in
 * sim_mem_content.c.
 *
 * Based on: KVM's dirty log and write tracking (bitmaps collected and
 * cleared a word at a time; here the words of the several bitmaps of 64
 * pages share a cache line), x86-64 page tables (a radix tree; here two
 * levels of 18 bits over 36-bit GVA page numbers, which measured 3x
 * faster than hashing on sparse address spaces), and a buddy allocator's
 * free list, in order after boot and scrambled in an aged guest.
 *
 * Not modelled: freeing guest pages, huge pages, content classes that
 * change when the guest writes a page.
 */
#include "sim_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bigmem.h"
#include "base/vm_fp.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_content.h"
#include "guest/guest_pt.h"
#include "sim_mem_int.h"

#define PT_BITS 18u
#define PT_LEAF_ENTRIES (1ull << PT_BITS)
#define PT_DIR_ENTRIES (1ull << PT_BITS)
#define GVA_PAGE_BITS (2u * PT_BITS)
_Static_assert(SIM_MEM_GVA_PAGE_LIMIT == 1ull << GVA_PAGE_BITS, "sim_mem.h says the limit");
_Static_assert(SIM_MEM_POISON_FP != VM_FP_ZERO, "a page made absent must not look zero");
_Static_assert(sizeof(struct sim_mem_line) == 64, "a line is one cache line");
#define CHUNK_SHIFT SIM_MEM_REGION_SHIFT         /* 2 MiB = 512 pages */
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

/* ---- bits over page ranges, a line at a time ---- */

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static uint64_t word_mask(unsigned lo, unsigned hi)
{
    uint64_t upper = hi == 64 ? ~0ull : (1ull << hi) - 1;
    return upper & ~((1ull << lo) - 1);
}

/* Set or clear bit `bit` of pages [first, first+n); returns how many of
 * them had it set before. */
static uint64_t lines_update(struct sim_mem *m, enum sim_mem_bit bit, uint64_t first, uint64_t n,
                             bool set)
{
    uint64_t had = 0, end = first + n;
    while (first < end) {
        uint64_t k = first >> 6;
        uint64_t stop = (k + 1) << 6 < end ? (k + 1) << 6 : end;
        uint64_t mask = word_mask((unsigned)(first & 63), (unsigned)(stop - (k << 6)));
        uint64_t *w = &m->lines[k].w[bit];
        had += (uint64_t)__builtin_popcountll(*w & mask);
        *w = set ? *w | mask : *w & ~mask;
        first = stop;
    }
    return had;
}

/* The word at line k of `map` (NULL: all clear). */
static uint64_t map_word(const uint64_t *map, uint64_t k)
{
    return map ? map[k] : 0;
}

uint64_t sim_mem_count_present(const struct sim_mem *m, const uint64_t *exclude)
{
    uint64_t c = 0;
    for (uint64_t k = 0; k < m->nr_lines; k++)
        c += (uint64_t)__builtin_popcountll(m->lines[k].w[SIM_MEM_PRESENT] & ~map_word(exclude, k));
    return c;
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
    m->nr_lines = (nr_pages + 63) / 64;
    uint64_t nr_regions = (nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;
    /* huge pages: a guest access touches one line at random */
    m->lines = vm_bigmem_alloc(m->nr_lines * sizeof *m->lines);
    m->region_class = malloc(nr_regions);
    m->pt = calloc(1, sizeof *m->pt);
    if (!m->lines || !m->region_class || !m->pt || sim_mem_fpool_new(m) < 0 ||
        build_chunks(m->pt, nr_pages, vm->fragmentation, seed) < 0 ||
        sim_mem_set_address_spaces(m, 1) < 0) {
        sim_mem_free(m);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for a guest of %llu pages",
                           (unsigned long long)nr_pages);
    }
    lines_update(m, SIM_MEM_PRESENT, 0, nr_pages, true);
    m->nr_present = nr_pages;
    m->all_present = true;
    m->ck_sorted = true;

    /* a zero region's pages are zero pages until the guest writes them;
     * every page's base content follows from its region's class */
    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_CLASS);
    for (uint64_t k = 0; k < nr_regions; k++) {
        double x = vm_rand_double(&r) * sum;
        int c = 0;
        while (c < SIM_CONTENT_NR - 1 && !(x < cum[c]))
            c++;
        m->region_class[k] = (uint8_t)c;
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
    sim_mem_fpool_free(m);
    vm_bigmem_free(m->lines, m->nr_lines * sizeof *m->lines);
    vm_bitmap_free(m->rs_checked);
    free(m->ck_log);
    free(m->region_class);
    free(m);
}

size_t sim_mem_bytes(const struct sim_mem *m)
{
    size_t b = sizeof *m + sizeof *m->pt;
    b += m->nr_lines * sizeof *m->lines;
    b += sim_mem_fpool_bytes(m);
    b += (m->nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;   /* region_class */
    b += m->pt->nr_chunks * sizeof *m->pt->chunk_order;
    b += m->pt->nr_as * sizeof *m->pt->as;
    for (uint32_t a = 0; a < m->pt->nr_as; a++)
        if (m->pt->as[a].dir)
            b += PT_DIR_ENTRIES * sizeof *m->pt->as[a].dir;
    b += m->pt->nr_leaves * PT_LEAF_ENTRIES * sizeof(uint32_t);
    b += m->ck_cap * sizeof *m->ck_log;
    if (m->rs_checked)
        b += VM_BITMAP_WORDS(m->nr_pages) * sizeof(uint64_t);
    return b;
}

/* ---- port_mem ---- */

static uint64_t op_nr_pages(const struct port_mem *pm)
{
    return ((const struct sim_mem *)pm)->nr_pages;
}

static void op_read(struct port_mem *pm, uint64_t first, uint32_t n, uint64_t *fps)
{
    sim_mem_read_range((const struct sim_mem *)pm, first, n, fps);
}

static void op_write(struct port_mem *pm, uint64_t first, uint32_t n, const uint64_t *fps)
{
    sim_mem_install_range((struct sim_mem *)pm, first, n, fps);
}

static void op_set_trace(struct port_mem *pm, uint64_t first, uint64_t n,
                         enum port_mem_trace mode)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "trace range past the end of guest memory");
    /* trace_w is set wherever a page is traced at all, so nr_traced
     * (pages with trace_w) gates both tests in sim_mem_check */
    uint64_t had = lines_update(m, SIM_MEM_TRACE_W, first, n, mode != PORT_MEM_TRACE_NONE);
    lines_update(m, SIM_MEM_TRACE_R, first, n, mode == PORT_MEM_TRACE_RW);
    m->nr_traced += mode == PORT_MEM_TRACE_NONE ? -had : n - had;
}

static void op_set_present(struct port_mem *pm, uint64_t first, uint64_t n, bool present)
{
    struct sim_mem *m = (struct sim_mem *)pm;
    assert(first + n <= m->nr_pages && "present range past the end of guest memory");
    uint64_t had = lines_update(m, SIM_MEM_PRESENT, first, n, present);
    m->nr_present += present ? n - had : -had;
    m->all_present = m->nr_present == m->nr_pages;
}

static bool op_is_present(const struct port_mem *pm, uint64_t page)
{
    const struct sim_mem *m = (const struct sim_mem *)pm;
    return m->all_present || sim_mem_test(m, SIM_MEM_PRESENT, page);
}

/* OR bit `bit` of every page into `into` (may be NULL), clear it, count it. */
static uint64_t collect(struct sim_mem *m, enum sim_mem_bit bit, uint64_t *into)
{
    uint64_t c = 0;
    for (uint64_t k = 0; k < m->nr_lines; k++) {
        uint64_t x = m->lines[k].w[bit];
        if (!x)
            continue;
        c += (uint64_t)__builtin_popcountll(x);
        if (into)
            into[k] |= x;
        m->lines[k].w[bit] = 0;
    }
    return c;
}

static uint64_t op_collect_dirty(struct port_mem *pm, uint64_t *into)
{
    return collect((struct sim_mem *)pm, SIM_MEM_DIRTY, into);
}

static uint64_t op_collect_accessed(struct port_mem *pm, uint64_t *into)
{
    return collect((struct sim_mem *)pm, SIM_MEM_ACCESSED, into);
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

/* TEMPORARY until the four-level tables land in sim_mem: no guest_as yet. */
struct guest_as *sim_mem_as(struct sim_mem *m, uint32_t asid)
{
    (void)m;
    (void)asid;
    return NULL;
}

void sim_mem_frag(const struct sim_mem *m, struct guest_frag *f)
{
    (void)m;
    memset(f, 0, sizeof *f);
}
