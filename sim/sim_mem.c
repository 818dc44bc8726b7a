/*
 * sim_mem.c - the guest memory model (sim_mem.h): lines of per-page bits,
 * the guest's page tables and allocator (models/guest, one address space
 * per guest process, a software TLB in front of each), content classes
 * per 2 MiB region, life cycle and the port_mem ops the mechanisms use.
 * Contents, the checker and the restore check are in sim_mem_content.c.
 *
 * Based on: KVM's dirty log and write tracking (bitmaps collected and
 * cleared a word at a time; here the words of the several bitmaps of 64
 * pages share a cache line), and a guest kernel's demand paging over real
 * x86-64 tables (guest_pt.h) and a buddy allocator (guest_buddy.h).
 *
 * Not modelled: freeing guest pages, transparent huge pages in the guest,
 * content classes that change when the guest writes a page, table pages'
 * own content (a table frame is guest memory the allocator hands out, its
 * fingerprint stays its base content unless a mechanism writes it, as a
 * driver that reads tables as guest memory does).
 */
#include "sim_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bigmem.h"
#include "base/vm_fp.h"
#include "base/vm_prefetch.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_content.h"
#include "guest/guest_pt.h"
#include "sim_mem_int.h"

_Static_assert(SIM_MEM_POISON_FP != VM_FP_ZERO, "a page made absent must not look zero");
_Static_assert(sizeof(struct sim_mem_line) == 64, "a line is one cache line");
_Static_assert((SIM_MEM_TLB_ENTRIES & (SIM_MEM_TLB_ENTRIES - 1)) == 0, "TLB index is a mask");
#define CHUNK_SHIFT SIM_MEM_REGION_SHIFT         /* 2 MiB = 512 pages */
#define CHUNK_PAGES (1u << CHUNK_SHIFT)

/* rand stream ids (vm_rand.h): independent of each other */
enum { STREAM_CLASS = 0x6d656d01 };   /* the allocator draws from its own */

static const struct port_mem_ops sim_mem_ops;

/* ---- the guest's address spaces ---- */

int sim_mem_set_address_spaces(struct sim_mem *m, uint32_t n)
{
    if (n < 1 || n > SIM_MEM_MAX_AS)
        return VM_EINVAL;
    if (n <= m->nr_as)
        return 0;
    struct sim_mem_as *as = realloc(m->as, n * sizeof *as);
    if (!as)
        return VM_ENOMEM;
    m->as = as;
    for (uint32_t i = m->nr_as; i < n; i++) {
        memset(&as[i], 0, sizeof as[i]);
        int rc = guest_as_new(m->guest, &as[i].as);
        if (rc)
            return rc;
        m->nr_as = i + 1;
    }
    return 0;
}

struct guest_vm *sim_mem_guest(struct sim_mem *m)
{
    return m->guest;
}

struct guest_as *sim_mem_as(struct sim_mem *m, uint32_t asid)
{
    return asid < m->nr_as ? m->as[asid].as : NULL;
}

void sim_mem_tlb_flush(struct sim_mem *m, uint32_t asid)
{
    for (uint32_t a = 0; a < m->nr_as; a++)
        if (asid == UINT32_MAX || a == asid)
            memset(m->as[a].tlb, 0, sizeof m->as[a].tlb);
}

void sim_mem_frag(const struct sim_mem *m, struct guest_frag *f)
{
    memset(f, 0, sizeof *f);
    for (uint32_t a = 0; a < m->nr_as; a++)
        guest_pt_frag(m->as[a].as, f);
}

void sim_mem_set_table_reads(struct sim_mem *m, bool on)
{
    m->table_reads = on;
    sim_mem_tlb_flush(m, UINT32_MAX);
}

unsigned sim_mem_walk_tables(const struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                             uint64_t *gfns)
{
    if (asid >= m->nr_as)
        return 0;
    return guest_pt_walk_tables(m->as[asid].as, gva_page << 12, gfns);
}

int sim_mem_translate_slow(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page)
{
    if (m->table_reads && asid < m->nr_as)
        return SIM_MEM_XLAT_WALK;       /* the caller reads the walk's tables first */
    return sim_mem_translate_fill(m, asid, gva_page, is_write, gpa_page);
}

int sim_mem_translate_fill(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page)
{
    if (asid >= m->nr_as)
        return VM_EINVAL;
    struct sim_mem_as *sa = &m->as[asid];
    uint64_t before = guest_as_nr_mapped(sa->as), gfn;
    struct vm_diag d;
    vm_diag_clear(&d);
    /* page < 2^52: the shift gives back the whole 64-bit address */
    int rc = guest_as_fault_in(sa->as, gva_page << 12, is_write, &gfn, &d);
    if (rc)
        return rc;
    m->mapped_pages += guest_as_nr_mapped(sa->as) - before;
    assert(gfn < m->nr_pages && "the guest's allocator hands out its own frames");
    sim_mem_tlb_fill(m, asid, gva_page, is_write, gfn);
    *gpa_page = gfn;
    return 0;
}

int sim_mem_translate_kept(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page, const struct sim_mem_pf *pf, size_t i)
{
    const struct sim_mem_pf_leaf *k = sim_mem_pf_kept_for(m, pf, asid, gva_page, i);
    uint64_t gfn;
    if (k && guest_as_access_leaf(m->as[asid].as, gva_page << 12, &k->ref, is_write, &gfn) == 0) {
        assert(gfn < m->nr_pages && "the guest's allocator hands out its own frames");
        sim_mem_tlb_fill(m, asid, gva_page, is_write, gfn);
        *gpa_page = gfn;
        return 0;
    }
    return sim_mem_translate_slow(m, asid, gva_page, is_write, gpa_page);
}

/* ---- replay-loop prefetch (sim_mem.h) ---- */

/* The records [*lo, *hi) of the group of g starting at `from`, clipped to
 * [0, n); false if none. */
static bool pf_clip(long from, long g, size_t n, long *lo, long *hi)
{
    *lo = from < 0 ? 0 : from;
    *hi = from + g < (long)n ? from + g : (long)n;
    return *lo < *hi;
}

/* Record j's slot of kept tables. */
static struct sim_mem_pf_leaf *pf_leaf(struct sim_mem_pf *pf, long j)
{
    return &pf->leaf[(size_t)(j / (long)SIM_MEM_PF_GROUP + 8) & 3][(size_t)j % SIM_MEM_PF_GROUP];
}

/* The guest-physical page of record j's guest-virtual page for the later
 * steps: the TLB's, or its PTE's read through the table kept for it (a
 * side-effect-free walk if that table went stale); false if none. */
static bool pf_gpa(const struct sim_mem *m, uint32_t asid, struct sim_mem_pf *pf, long j,
                   uint64_t page, uint64_t *gpa)
{
    const struct sim_mem_tlbe *t = sim_mem_tlb_holds(m, asid, page);
    if (t) {
        *gpa = t->gpa_page;
        return true;
    }
    const struct guest_as *as = m->as[asid].as;
    const struct sim_mem_pf_leaf *k = pf_leaf(pf, j);
    int rc = VM_EAGAIN;                   /* no table kept for this page: walk */
    if (k->page == page) {
        const uint64_t *pte = guest_leaf_pte(&k->ref, page << 12, *m->pt_gen);
        if (pte) {                        /* the common case inline */
            *gpa = (*pte & GUEST_PTE_ADDR) >> GUEST_PAGE_SHIFT;
            return (*pte & GUEST_PTE_P) && *gpa < m->nr_pages;
        }
        rc = guest_pt_peek_leaf(as, page << 12, &k->ref, gpa);
    }
    if (rc == VM_EAGAIN)
        rc = guest_pt_peek(as, page << 12, gpa);
    return rc == 0 && *gpa < m->nr_pages;
}

/* The slot of the group at record `at` (>= -4 groups) in pf->miss. */
static uint32_t *pf_mask(struct sim_mem_pf *pf, long at)
{
    return &pf->miss[(size_t)(at / (long)SIM_MEM_PF_GROUP + 8) & 3];
}

/* Its slot in pf->gpa (two groups are in flight between the line step
 * that translates their records and the step after it). */
static uint32_t *pf_gpas(struct sim_mem_pf *pf, long at)
{
    return pf->gpa[(size_t)(at / (long)SIM_MEM_PF_GROUP + 8) & 1];
}

/* The steps taken at record i. */
static void pf_steps(const struct sim_mem *m, uint32_t asid, const struct sim_access *recs,
                     size_t n, long i, struct sim_mem_pf *pf)
{
    const long g = (long)SIM_MEM_PF_GROUP;
    const struct guest_as *as = m->as[asid].as;
    long lo, hi;
    /* group i+g: for the writes the TLB missed, the own contents (their
     * pages as the line step found them) */
    uint32_t miss = *pf_mask(pf, i + g);
    const uint32_t *gpas = pf_gpas(pf, i + g);
    if (miss && pf_clip(i + g, g, n, &lo, &hi))
        for (long j = lo; j < hi; j++)
            if ((miss >> (j - lo) & 1) && gpas[j - lo] != UINT32_MAX &&
                sim_access_op(&recs[j]) == SIM_OP_WRITE)
                vm_prefetch_w(m->lines[gpas[j - lo] >> 6].fps);
    /* group i+2g: the page lines */
    miss = *pf_mask(pf, i + 2 * g);
    uint32_t *out = pf_gpas(pf, i + 2 * g);
    if (miss && pf_clip(i + 2 * g, g, n, &lo, &hi))
        for (long j = lo; j < hi; j++) {
            uint64_t gpa;
            out[j - lo] = UINT32_MAX;
            if ((miss >> (j - lo) & 1) && pf_gpa(m, asid, pf, j, sim_access_page(&recs[j]), &gpa)) {
                out[j - lo] = (uint32_t)gpa;
                vm_prefetch_w(&m->lines[gpa >> 6]);
            }
        }
    /* group i+3g: the PTEs, and the tables kept for the accesses.  A
     * record the TLB held keeps its slot as it was: a reference taken for
     * the same page earlier is still right while its generation holds,
     * and one for another page is never used (sim_mem_translate_replay
     * checks the page). */
    miss = *pf_mask(pf, i + 3 * g);
    if (miss && pf_clip(i + 3 * g, g, n, &lo, &hi))
        for (long j = lo; j < hi; j++)
            if (miss >> (j - lo) & 1) {
                struct sim_mem_pf_leaf *k = pf_leaf(pf, j);
                k->page = sim_access_page(&recs[j]);
                guest_pt_prefetch_leaf(as, k->page << 12, &k->ref);
            }
    /* group i+4g: which records the TLB misses, and their cache entries */
    miss = 0;
    if (pf_clip(i + 4 * g, g, n, &lo, &hi))
        for (long j = lo; j < hi; j++) {
            uint64_t page = sim_access_page(&recs[j]);
            if (!sim_mem_tlb_holds(m, asid, page)) {
                miss |= 1u << (j - lo);
                guest_pt_prefetch_pdc(as, page << 12);
            }
        }
    *pf_mask(pf, i + 4 * g) = miss;
}

void sim_mem_prefetch_groups(const struct sim_mem *m, uint32_t asid,
                             const struct sim_access *recs, size_t n, size_t i,
                             struct sim_mem_pf *pf)
{
    if (asid >= m->nr_as)
        return;
    if (pf->asid != asid) {               /* tables kept for another process: drop them */
        memset(pf->leaf, 0, sizeof pf->leaf);
        pf->asid = asid;
    }
    const long g = (long)SIM_MEM_PF_GROUP;
    for (long back = i == 0 ? 4 : 0; back >= 0; back--)  /* a new buffer: the steps */
        pf_steps(m, asid, recs, n, (long)i - back * g, pf);   /* before it too */
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
    if (!(vm->aging >= 0 && vm->aging <= 1))
        return vm_diag_set(d, VM_EINVAL, "'vm.aging': expected 0..1, got %g", vm->aging);
    unsigned levels = vm->paging_levels ? vm->paging_levels : 4;
    if (levels != 4 && levels != 5)
        return vm_diag_set(d, VM_EINVAL, "'vm.paging_levels': expected 4 or 5, got %u", levels);
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
    struct guest_vm_cfg gc = { .nr_frames = nr_pages, .levels = levels, .aging = vm->aging,
                               .seed = seed };
    if (!m->lines || !m->region_class || sim_mem_fpool_new(m) < 0 ||
        guest_vm_new(&gc, &m->guest, d) < 0 || sim_mem_set_address_spaces(m, 1) < 0) {
        sim_mem_free(m);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for a guest of %llu pages",
                           (unsigned long long)nr_pages);
    }
    m->pt_gen = guest_vm_gen(m->guest);
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
    guest_vm_free(m->guest);                     /* and every address space */
    free(m->as);
    sim_mem_fpool_free(m);
    vm_bigmem_free(m->lines, m->nr_lines * sizeof *m->lines);
    vm_bitmap_free(m->rs_checked);
    free(m->ck_log);
    free(m->region_class);
    free(m);
}

size_t sim_mem_bytes(const struct sim_mem *m)
{
    size_t b = sizeof *m;
    b += m->nr_lines * sizeof *m->lines;
    b += sim_mem_fpool_bytes(m);
    b += (m->nr_pages + CHUNK_PAGES - 1) >> CHUNK_SHIFT;   /* region_class */
    b += m->nr_as * sizeof *m->as;
    b += guest_vm_table_bytes(m->guest);
    b += m->nr_pages / 4;                        /* the allocator's ~2 bits per frame */
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
