/*
 * fake_mem.c - flat-array guest memory for unit tests (see fake_mem.h).
 * Not modelled: page tables, GVA, content classes (compressed sizes come
 * from a fixed function of the fingerprint).
 */
#include "fakes/fake_mem.h"

#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "base/vm_fp.h"

static struct fake_mem *fm(struct port_mem *pm) { return (struct fake_mem *)pm; }
static const struct fake_mem *cfm(const struct port_mem *pm)
{
    return (const struct fake_mem *)pm;
}

static uint64_t op_nr_pages(const struct port_mem *pm) { return cfm(pm)->nr_pages; }

static void op_read(struct port_mem *pm, uint64_t first, uint32_t n, uint64_t *fps)
{
    struct fake_mem *m = fm(pm);
    memcpy(fps, m->fp + first, (size_t)n * sizeof(uint64_t));
    m->nr_read_calls++;
    m->pages_read += n;
}

static void op_write(struct port_mem *pm, uint64_t first, uint32_t n, const uint64_t *fps)
{
    memcpy(fm(pm)->fp + first, fps, (size_t)n * sizeof(uint64_t));
}

static void op_set_trace(struct port_mem *pm, uint64_t first, uint64_t n,
                         enum port_mem_trace mode)
{
    struct fake_mem *m = fm(pm);
    memset(m->trace + first, (int)mode, n);
    m->nr_set_trace_calls++;
}

static void op_set_present(struct port_mem *pm, uint64_t first, uint64_t n, bool present)
{
    struct fake_mem *m = fm(pm);
    if (present)
        vm_bitmap_set_range(m->present, first, n);
    else
        vm_bitmap_clear_range(m->present, first, n);
}

static bool op_is_present(const struct port_mem *pm, uint64_t page)
{
    return vm_bitmap_test(cfm(pm)->present, page);
}

static uint64_t collect(uint64_t *bits, uint64_t nr_pages, uint64_t *into)
{
    uint64_t n = 0;
    for (uint64_t w = 0; w < VM_BITMAP_WORDS(nr_pages); w++) {
        n += (uint64_t)__builtin_popcountll(bits[w]);
        if (into)
            into[w] |= bits[w];
        bits[w] = 0;
    }
    return n;
}

static uint64_t op_collect_dirty(struct port_mem *pm, uint64_t *into)
{
    struct fake_mem *m = fm(pm);
    return collect(m->dirty, m->nr_pages, into);
}

static uint64_t op_collect_accessed(struct port_mem *pm, uint64_t *into)
{
    struct fake_mem *m = fm(pm);
    return collect(m->accessed, m->nr_pages, into);
}

uint64_t fake_mem_page_zbytes(uint64_t fp) { return 1024 + fp % 2048; }

static uint64_t op_compress_size(const struct port_mem *pm, const uint64_t *pages, uint32_t n)
{
    const struct fake_mem *m = cfm(pm);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += fake_mem_page_zbytes(m->fp[pages[i]]);
    return sum;
}

static const struct port_mem_ops fake_mem_ops = {
    .version = PORT_MEM_VERSION,
    .name = "fake",
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

void fake_mem_free(struct fake_mem *m)
{
    if (!m)
        return;
    free(m->fp);
    free(m->version);
    free(m->trace);
    vm_bitmap_free(m->present);
    vm_bitmap_free(m->dirty);
    vm_bitmap_free(m->accessed);
    free(m);
}

struct fake_mem *fake_mem_new(uint64_t nr_pages, uint64_t seed)
{
    struct fake_mem *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->base.ops = &fake_mem_ops;
    m->nr_pages = nr_pages;
    m->seed = seed;
    m->fp = malloc(nr_pages * sizeof(uint64_t));
    m->version = calloc(nr_pages, sizeof(uint32_t));
    m->trace = calloc(nr_pages, 1);
    m->present = vm_bitmap_new(nr_pages);
    m->dirty = vm_bitmap_new(nr_pages);
    m->accessed = vm_bitmap_new(nr_pages);
    if (!m->fp || !m->version || !m->trace || !m->present || !m->dirty || !m->accessed) {
        fake_mem_free(m);
        return NULL;
    }
    for (uint64_t p = 0; p < nr_pages; p++)
        m->fp[p] = vm_fp_page(seed, p, 0);
    vm_bitmap_set_range(m->present, 0, nr_pages);
    return m;
}

int fake_mem_guest_access(struct fake_mem *m, uint64_t page, bool is_write)
{
    if (page >= m->nr_pages)
        return VM_EINVAL;
    enum port_mem_trace t = (enum port_mem_trace)m->trace[page];
    if (!vm_bitmap_test(m->present, page) || t == PORT_MEM_TRACE_RW ||
        (t == PORT_MEM_TRACE_WRITE && is_write)) {
        m->nr_refused++;
        return VM_EBUSY;
    }
    vm_bitmap_set(m->accessed, page);
    if (is_write) {
        vm_bitmap_set(m->dirty, page);
        m->fp[page] = vm_fp_page(m->seed, page, ++m->version[page]);
        m->nr_writes++;
    } else {
        m->nr_reads++;
    }
    return 0;
}

void fake_mem_set_zero(struct fake_mem *m, uint64_t first, uint64_t n)
{
    if (first >= m->nr_pages)
        return;
    if (n > m->nr_pages - first)
        n = m->nr_pages - first;
    for (uint64_t p = first; p < first + n; p++)
        m->fp[p] = VM_FP_ZERO;
    vm_bitmap_set_range(m->dirty, first, n);
    vm_bitmap_set_range(m->accessed, first, n);
}

enum port_mem_trace fake_mem_trace_of(const struct fake_mem *m, uint64_t page)
{
    return (enum port_mem_trace)m->trace[page];
}

uint64_t fake_mem_nr_traced(const struct fake_mem *m)
{
    uint64_t n = 0;
    for (uint64_t p = 0; p < m->nr_pages; p++)
        n += m->trace[p] != PORT_MEM_TRACE_NONE;
    return n;
}
