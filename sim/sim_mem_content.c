/*
 * sim_mem_content.c - page contents of the guest memory model (see
 * sim_mem.h): base contents computed from (seed, gpa), contents of the
 * pages' own in per-line arrays, the instant-content checker and the
 * restore check.
 *
 * A line's own contents are one array of fingerprints, in page order,
 * with room for a power of two of them (1, 2, 4 .. 64); finding page p's
 * is a popcount of the line's own bits below p.  The arrays come from a
 * pool of 2 MiB chunks (vm_bigmem: huge pages, each faulted in ahead by a
 * thread while the one before fills) with a free list per size, so a page written for
 * the first time costs no malloc and no per-allocation header: 8 bytes
 * per own page, plus the unused part of its line's array.  The pool is
 * only given back as a whole (sim_mem_drop_own, sim_mem_free).
 *
 * Based on: sparse arrays indexed by a popcount of a presence bitmap
 * (the shape of a hash array mapped trie node), and slab-style size
 * classes.
 *
 * Not modelled: nothing; a failure to store a content (no memory) keeps
 * the old one, counts in nr_lost_writes and makes the checker answer 0
 * (so the image check fails rather than passing by accident).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bigmem.h"
#include "base/vm_fp.h"
#include "base/vm_prefetch.h"
#include "sim_content.h"
#include "sim_mem_int.h"

#define FP_CLASSES 7u                         /* arrays of 1, 2, 4, ..., 64 fingerprints */
#define FP_CHUNK_WORDS (UINT64_C(1) << 18)    /* 2 MiB: a huge page (vm_bigmem) */

struct sim_mem_fpool {
    uint64_t *free[FP_CLASSES];   /* free arrays of each size, linked through word 0 */
    uint64_t *bump;               /* the rest of the newest chunk */
    size_t bump_left;             /* words in it */
    void **chunks;
    size_t nr_chunks, cap_chunks;
    struct vm_bigmem_ahead *ahead;    /* faults the next chunk in while one fills */
};

/* ---- the pool ---- */

int sim_mem_fpool_new(struct sim_mem *m)
{
    m->fpool = calloc(1, sizeof *m->fpool);
    if (m->fpool && !(m->fpool->ahead = vm_bigmem_ahead_new(FP_CHUNK_WORDS * sizeof(uint64_t)))) {
        free(m->fpool);
        m->fpool = NULL;
    }
    return m->fpool ? 0 : VM_ENOMEM;
}

static void pool_release(struct sim_mem_fpool *fp)
{
    for (size_t i = 0; i < fp->nr_chunks; i++)
        vm_bigmem_free(fp->chunks[i], FP_CHUNK_WORDS * sizeof(uint64_t));
    free(fp->chunks);
    struct vm_bigmem_ahead *ahead = fp->ahead;    /* kept for the next chunks */
    memset(fp, 0, sizeof *fp);
    fp->ahead = ahead;
}

void sim_mem_fpool_free(struct sim_mem *m)
{
    if (!m->fpool)
        return;
    pool_release(m->fpool);
    vm_bigmem_ahead_free(m->fpool->ahead);
    free(m->fpool);
    m->fpool = NULL;
}

size_t sim_mem_fpool_bytes(const struct sim_mem *m)
{
    const struct sim_mem_fpool *fp = m->fpool;
    return sizeof *fp + fp->cap_chunks * sizeof *fp->chunks +
           fp->nr_chunks * FP_CHUNK_WORDS * sizeof(uint64_t);
}

/* The size class that holds n >= 1 fingerprints. */
static unsigned fp_class(unsigned n)
{
    return n <= 1 ? 0 : 32u - (unsigned)__builtin_clz(n - 1);
}

static uint64_t *pool_get(struct sim_mem_fpool *fp, unsigned c)
{
    uint64_t *a = fp->free[c];
    if (a) {
        memcpy(&fp->free[c], a, sizeof a);
        return a;
    }
    size_t words = (size_t)1 << c;
    if (fp->bump_left < words) {
        if (fp->nr_chunks == fp->cap_chunks) {
            size_t cap = fp->cap_chunks ? 2 * fp->cap_chunks : 64;
            void **ch = realloc(fp->chunks, cap * sizeof *ch);
            if (!ch)
                return NULL;
            fp->chunks = ch;
            fp->cap_chunks = cap;
        }
        uint64_t *chunk = vm_bigmem_ahead_take(fp->ahead);
        if (!chunk)
            return NULL;
        fp->chunks[fp->nr_chunks++] = chunk;
        fp->bump = chunk;
        fp->bump_left = FP_CHUNK_WORDS;   /* the old chunk's tail (< 64 words) is left */
    }
    a = fp->bump;
    fp->bump += words;
    fp->bump_left -= words;
    return a;
}

static void pool_put(struct sim_mem_fpool *fp, unsigned c, uint64_t *a)
{
    memcpy(a, &fp->free[c], sizeof a);
    fp->free[c] = a;
}

void sim_mem_drop_own(struct sim_mem *m)
{
    for (uint64_t k = 0; k < m->nr_lines; k++) {
        m->lines[k].w[SIM_MEM_OWN] = 0;
        m->lines[k].fps = NULL;
    }
    pool_release(m->fpool);
    m->nr_own = 0;
}

/* ---- one page's content ---- */

static uint64_t base_fp(const struct sim_mem *m, uint64_t p)
{
    if (m->base_poison)
        return SIM_MEM_POISON_FP;
    if (m->region_class[p >> SIM_MEM_REGION_SHIFT] == SIM_CONTENT_ZERO)
        return VM_FP_ZERO;
    return vm_fp_page(m->seed, p, 0);
}

/* Index of own bit `bit` among the line's own pages. */
static unsigned own_index(const struct sim_mem_line *l, uint64_t bit)
{
    return (unsigned)__builtin_popcountll(l->w[SIM_MEM_OWN] & (bit - 1));
}

static uint64_t line_fp(const struct sim_mem *m, const struct sim_mem_line *l, uint64_t p)
{
    uint64_t bit = 1ull << (p & 63);
    return l->w[SIM_MEM_OWN] & bit ? l->fps[own_index(l, bit)] : base_fp(m, p);
}

uint64_t sim_mem_fp(const struct sim_mem *m, uint64_t p)
{
    assert(p < m->nr_pages && "content of a page outside guest memory");
    return line_fp(m, &m->lines[p >> 6], p);
}

/* Give page p of line l the content fp: 0 or VM_ENOMEM (content unchanged). */
static int own_set(struct sim_mem *m, struct sim_mem_line *l, uint64_t p, uint64_t fp)
{
    uint64_t bit = 1ull << (p & 63);
    unsigned i = own_index(l, bit);
    if (l->w[SIM_MEM_OWN] & bit) {
        l->fps[i] = fp;
        return 0;
    }
    unsigned n = (unsigned)__builtin_popcountll(l->w[SIM_MEM_OWN]);
    if ((n & (n - 1)) == 0) {
        /* 0 or a power of two: the array is full, move to the next size */
        uint64_t *a = pool_get(m->fpool, n ? fp_class(2 * n) : 0);
        if (!a)
            return VM_ENOMEM;
        if (n) {
            memcpy(a, l->fps, i * sizeof *a);
            memcpy(a + i + 1, l->fps + i, (n - i) * sizeof *a);
            pool_put(m->fpool, fp_class(n), l->fps);
        }
        l->fps = a;
    } else {
        memmove(l->fps + i + 1, l->fps + i, (n - i) * sizeof *l->fps);
    }
    l->fps[i] = fp;
    l->w[SIM_MEM_OWN] |= bit;
    m->nr_own++;
    return 0;
}

/* ---- reads and writes ---- */

/* Content of pages [p, stop) of line l (stop at most the line's end). */
static uint64_t *read_line(const struct sim_mem *m, const struct sim_mem_line *l, uint64_t p,
                           uint64_t stop, uint64_t *fps)
{
    if (!l->w[SIM_MEM_OWN]) {
        /* a line of base contents: a region's class covers it whole */
        if (m->base_poison || m->region_class[p >> SIM_MEM_REGION_SHIFT] == SIM_CONTENT_ZERO) {
            uint64_t fp = base_fp(m, p);
            for (; p < stop; p++)
                *fps++ = fp;
        } else {
            for (; p < stop; p++)
                *fps++ = vm_fp_page(m->seed, p, 0);
        }
        return fps;
    }
    for (; p < stop; p++)
        *fps++ = line_fp(m, l, p);
    return fps;
}

void sim_mem_read_range(const struct sim_mem *m, uint64_t first, uint32_t n, uint64_t *fps)
{
    assert(first + n <= m->nr_pages && "read past the end of guest memory");
    uint64_t end = first + n;
    for (uint64_t p = first; p < end;) {
        uint64_t stop = ((p >> 6) + 1) << 6;
        if (stop > end)
            stop = end;
        fps = read_line(m, &m->lines[p >> 6], p, stop, fps);
        p = stop;
    }
}

static void ck_log(struct sim_mem *m, uint64_t page, uint64_t old_fp)
{
    if (m->ck_len == m->ck_cap) {
        size_t cap = m->ck_cap ? 2 * m->ck_cap : 4096;
        struct sim_mem_log *l = realloc(m->ck_log, cap * sizeof *l);
        if (!l) {
            m->ck_lost = true;      /* instant_fp answers 0 from now on: the check fails */
            return;
        }
        m->ck_log = l;
        m->ck_cap = cap;
    }
    m->ck_log[m->ck_len].page = page;
    m->ck_log[m->ck_len].fp = old_fp;
    m->ck_len++;
    m->ck_sorted = false;
}

/* Before page p of line l changes while armed: the first time, mark it
 * and log its old content if it cannot be computed again. */
static void ck_before_write(struct sim_mem *m, struct sim_mem_line *l, uint64_t p)
{
    uint64_t bit = 1ull << (p & 63);
    if (!m->ck_armed || (l->w[SIM_MEM_CK_SAVED] & bit))
        return;
    l->w[SIM_MEM_CK_SAVED] |= bit;
    if (l->w[SIM_MEM_OWN] & bit)
        ck_log(m, p, l->fps[own_index(l, bit)]);
}

static void set_content(struct sim_mem *m, struct sim_mem_line *l, uint64_t p, uint64_t fp)
{
    if (own_set(m, l, p, fp) < 0) {
        m->nr_lost_writes++;
        m->ck_lost = true;
    }
}

void sim_mem_write_page(struct sim_mem *m, uint64_t gpa)
{
    struct sim_mem_line *l = &m->lines[gpa >> 6];
    ck_before_write(m, l, gpa);
    set_content(m, l, gpa, vm_fp_page(m->seed, gpa, ++m->write_seq));
    l->w[SIM_MEM_DIRTY] |= 1ull << (gpa & 63);
}

void sim_mem_install_range(struct sim_mem *m, uint64_t first, uint32_t n, const uint64_t *fps)
{
    assert(first + n <= m->nr_pages && "install past the end of guest memory");
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = first + i;
        struct sim_mem_line *l = &m->lines[p >> 6];
        /* a page not compared yet is compared at its first access or at
         * the end; one already compared (the guest saw it) is compared
         * again now */
        if (m->expect_fp && vm_bitmap_test(m->rs_checked, p))
            m->restore_mismatch += fps[i] != m->expect_fp[p];
        ck_before_write(m, l, p);
        set_content(m, l, p, fps[i]);
    }
}

/* ---- the checker ---- */

void sim_mem_checker_arm(struct sim_mem *m)
{
    for (uint64_t k = 0; k < m->nr_lines; k++)
        m->lines[k].w[SIM_MEM_CK_SAVED] = 0;
    m->ck_len = 0;
    m->ck_sorted = true;
    m->ck_lost = false;
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

/* Sort the log once, before the first query after it grew. */
static void ck_sort(struct sim_mem *m)
{
    if (m->ck_sorted)
        return;                     /* sorted: only read (threads may query at once) */
    if (m->ck_len)
        qsort(m->ck_log, m->ck_len, sizeof *m->ck_log, log_cmp);
    m->ck_sorted = true;
}

void sim_mem_checker_sort(struct sim_mem *m)
{
    ck_sort(m);
}

/* Index of the first log entry for a page >= page (the log is sorted). */
static size_t ck_lower_bound(const struct sim_mem *m, uint64_t page)
{
    size_t lo = 0, hi = m->ck_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ck_log[mid].page < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The instant content of a checker-saved page whose log entry, if any,
 * is at or after index *k (advanced past it): logged, or its base
 * content, which does not change while armed (0 once an entry was lost). */
static uint64_t ck_saved_fp(const struct sim_mem *m, size_t *k, uint64_t page)
{
    while (*k < m->ck_len && m->ck_log[*k].page < page)
        (*k)++;
    if (*k < m->ck_len && m->ck_log[*k].page == page)
        return m->ck_log[(*k)++].fp;
    return m->ck_lost ? 0 : base_fp(m, page);
}

uint64_t sim_mem_instant_fp(struct sim_mem *m, uint64_t page)
{
    const struct sim_mem_line *l = &m->lines[page >> 6];
    uint64_t bit = 1ull << (page & 63);
    if (!m->ck_armed || !(l->w[SIM_MEM_CK_SAVED] & bit))
        return line_fp(m, l, page);
    ck_sort(m);
    size_t k = ck_lower_bound(m, page);
    return ck_saved_fp(m, &k, page);
}

/*
 * A cursor into the sorted log: `k` is the first entry for a page >= page
 * (valid once `page` is set).  Queries that go forward move it by a few
 * entries or a search of the rest; one that goes back searches again.
 */
struct ck_cursor {
    size_t k;
    uint64_t page;
    bool valid;
};

static void ck_seek(const struct sim_mem *m, struct ck_cursor *c, uint64_t page)
{
    if (c->valid && page >= c->page) {
        for (int steps = 0; steps < 8; steps++) {
            if (c->k >= m->ck_len || m->ck_log[c->k].page >= page) {
                c->page = page;
                return;
            }
            c->k++;
        }
    }
    c->k = ck_lower_bound(m, page);
    c->page = page;
    c->valid = true;
}

/* Instant content of [first, first+n), the log sorted if armed. */
static void instant_run(struct sim_mem *m, uint64_t first, uint64_t n, uint64_t *fps,
                        struct ck_cursor *c)
{
    uint64_t end = first + n;
    bool sought = false;            /* the cursor is at or before this run's first saved page */
    for (uint64_t p = first; p < end;) {
        const struct sim_mem_line *l = &m->lines[p >> 6];
        uint64_t stop = ((p >> 6) + 1) << 6;
        if (stop > end)
            stop = end;
        /* the segment's checker-saved pages: bits p%64 .. (stop-1)%64 */
        uint64_t seg = (stop - p == 64 ? ~0ull : ((1ull << (stop - p)) - 1)) << (p & 63);
        uint64_t saved = m->ck_armed ? l->w[SIM_MEM_CK_SAVED] & seg : 0;
        if (!saved) {
            fps = read_line(m, l, p, stop, fps);
            p = stop;
            continue;
        }
        if (!sought) {
            ck_seek(m, c, p);
            sought = true;
        }
        for (; p < stop; p++) {
            uint64_t bit = 1ull << (p & 63);
            *fps++ = saved & bit ? ck_saved_fp(m, &c->k, p) : line_fp(m, l, p);
        }
        c->page = stop;             /* k is past every entry below stop */
    }
}

void sim_mem_instant_range(struct sim_mem *m, uint64_t first, uint64_t n, uint64_t *fps)
{
    assert(first <= m->nr_pages && n <= m->nr_pages - first &&
           "instant content past the end of guest memory");
    struct ck_cursor c = { 0 };
    if (m->ck_armed)
        ck_sort(m);
    instant_run(m, first, n, fps, &c);
}

void sim_mem_instant_pages(struct sim_mem *m, const uint64_t *pages, uint64_t n, uint64_t *fps)
{
    /* the runs lie anywhere in a large guest: a miss each, in parallel */
    for (uint64_t i = 0; i < n; i++)
        if (i == 0 || pages[i] >> 6 != pages[i - 1] >> 6)
            vm_prefetch(&m->lines[pages[i] >> 6]);
    if (m->ck_armed)
        ck_sort(m);
    struct ck_cursor c = { 0 };
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && pages[j] == pages[j - 1] + 1)
            j++;
        assert(pages[i] < m->nr_pages && j - i <= m->nr_pages - pages[i] &&
               "instant content past the end of guest memory");
        instant_run(m, pages[i], j - i, fps + i, &c);
        i = j;
    }
}

/* ---- the restore check ---- */

int sim_mem_make_absent(struct sim_mem *m, const uint64_t *expect)
{
    assert(!m->ck_armed && "make_absent rewrites every page: the instant would be lost");
    for (uint64_t k = 0; k < m->nr_lines; k++)
        m->lines[k].w[SIM_MEM_PRESENT] = 0;
    m->nr_present = 0;
    m->all_present = m->nr_pages == 0;
    sim_mem_tlb_flush(m, UINT32_MAX);  /* a restored VM's TLBs start empty */
    /* a page marked present without an install keeps the poison */
    sim_mem_drop_own(m);
    m->base_poison = true;
    m->expect_fp = NULL;
    m->restore_checked = m->restore_mismatch = 0;
    if (!expect)
        return 0;
    if (!m->rs_checked && !(m->rs_checked = vm_bitmap_new(m->nr_pages)))
        return VM_ENOMEM;
    memset(m->rs_checked, 0, VM_BITMAP_WORDS(m->nr_pages) * sizeof(uint64_t));
    m->expect_fp = expect;
    return 0;
}

void sim_mem_restore_check_page(struct sim_mem *m, uint64_t gpa)
{
    vm_bitmap_set(m->rs_checked, gpa);
    m->restore_checked++;
    m->restore_mismatch += sim_mem_fp(m, gpa) != m->expect_fp[gpa];
}

void sim_mem_restore_finish(struct sim_mem *m)
{
    if (!m->expect_fp)
        return;
    for (uint64_t k = 0; k < m->nr_lines; k++) {
        uint64_t unchecked = m->lines[k].w[SIM_MEM_PRESENT] & ~m->rs_checked[k];
        while (unchecked) {
            sim_mem_restore_check_page(m, k * 64 + (uint64_t)__builtin_ctzll(unchecked));
            unchecked &= unchecked - 1;
        }
    }
    m->expect_fp = NULL;
}
