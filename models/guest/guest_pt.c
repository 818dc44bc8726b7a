/*
 * guest_pt.c - x86-64 4- and 5-level guest page tables: table pages in
 * guest frames from the buddy allocator, the guest's mapping and
 * fault-in paths, the hypervisor's walks and neighbour translations, and
 * the measured fragmentation (see guest_pt.h).
 *
 * Table contents are stored in simulator memory taken from 2 MiB chunks
 * (backed by host huge pages where the host allows, so that random walks
 * over a large guest do not also miss the host's TLB).  An upper-level
 * table (PML5, PML4, PDPT, PD) is 8 KiB: its 512 entries, then 512
 * pointers to the tables its entries name, a shadow of their address
 * fields, so that a walk costs one dependent load per level; a last-level
 * table is its 4 KiB of entries.  A small hash map finds a table from its
 * guest frame (guest_vm_table(), releases).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/guest_buddy.h"
#include "guest/guest_pt.h"

#define CHUNK_BYTES (2u << 20)            /* table storage chunk */
#define TABLE_FLAGS (GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_A)
#define LEAF_KEEP (GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_PWT | GUEST_PTE_PCD | \
                   GUEST_PTE_A | GUEST_PTE_D | GUEST_PTE_G | GUEST_PTE_XD)
#define HUGE_ORDER 9
#define NO_KEY UINT64_MAX

struct pool {                             /* table storage of one size */
    size_t size;                          /* 4096 (last level) or 8192 (upper) */
    uint64_t **spare;                     /* released tables */
    size_t nr_spare, cap_spare;
    char *cur;                            /* unused part of the last chunk */
    size_t left;
};

struct guest_vm {
    struct guest_vm_cfg cfg;
    struct guest_buddy *buddy;
    struct pool pool[2];                  /* [0] last-level tables, [1] upper tables */
    void **chunks;
    size_t nr_chunks;
    uint64_t *hkey;                       /* guest frame -> table: open addressing */
    uint64_t **hval;
    size_t hcap, hcount;
    uint64_t nr_tables;
    struct guest_as **as;                 /* live address spaces */
    size_t nr_as, cap_as;
};

struct guest_as {
    struct guest_vm *vm;
    unsigned levels;
    size_t slot;                          /* index in vm->as */
    uint64_t root_gfn;
    uint64_t *root;
    uint64_t nr_mapped;
};

static inline unsigned index_at(uint64_t gva, unsigned lvl)
{
    return (unsigned)(gva >> (GUEST_PAGE_SHIFT + 9 * (lvl - 1))) & 511;
}

/* The child-table pointers of an upper-level table. */
static inline uint64_t **children(const uint64_t *t)
{
    return (uint64_t **)(uintptr_t)(t + GUEST_PT_ENTRIES);
}

static inline uint64_t entry_gfn(uint64_t e)
{
    return (e & GUEST_PTE_ADDR) >> GUEST_PAGE_SHIFT;
}

/* ------------------------------------------------------------------ tables */

static uint64_t *storage_get(struct guest_vm *vm, bool upper)
{
    struct pool *p = &vm->pool[upper];
    if (p->nr_spare) {
        uint64_t *t = p->spare[--p->nr_spare];
        memset(t, 0, p->size);
        return t;
    }
    if (p->left < p->size) {
        void **c = realloc(vm->chunks, (vm->nr_chunks + 1) * sizeof *c);
        if (!c)
            return NULL;
        vm->chunks = c;
        char *mem = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
        if (!mem)
            return NULL;
#ifdef MADV_HUGEPAGE
        (void)madvise(mem, CHUNK_BYTES, MADV_HUGEPAGE);   /* a hint; fine if refused */
#endif
        memset(mem, 0, CHUNK_BYTES);
        vm->chunks[vm->nr_chunks++] = mem;
        p->cur = mem;
        p->left = CHUNK_BYTES;
    }
    uint64_t *t = (uint64_t *)(void *)p->cur;
    p->cur += p->size;
    p->left -= p->size;
    return t;
}

static void storage_put(struct guest_vm *vm, bool upper, uint64_t *t)
{
    struct pool *p = &vm->pool[upper];
    if (p->nr_spare == p->cap_spare) {
        size_t cap = p->cap_spare ? p->cap_spare * 2 : 64;
        uint64_t **sp = realloc(p->spare, cap * sizeof *sp);
        if (!sp)
            return;     /* the table stays unused in its chunk until guest_vm_free() */
        p->spare = sp;
        p->cap_spare = cap;
    }
    p->spare[p->nr_spare++] = t;
}

static size_t hslot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static int hgrow(struct guest_vm *vm)
{
    size_t cap = vm->hcap ? vm->hcap * 2 : 256;
    uint64_t *k = malloc(cap * sizeof *k);
    uint64_t **v = malloc(cap * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return VM_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        k[i] = NO_KEY;
    for (size_t i = 0; i < vm->hcap; i++) {
        if (vm->hkey[i] == NO_KEY)
            continue;
        size_t j = hslot(vm->hkey[i], cap);
        while (k[j] != NO_KEY)
            j = (j + 1) & (cap - 1);
        k[j] = vm->hkey[i];
        v[j] = vm->hval[i];
    }
    free(vm->hkey);
    free(vm->hval);
    vm->hkey = k;
    vm->hval = v;
    vm->hcap = cap;
    return 0;
}

static int hput(struct guest_vm *vm, uint64_t key, uint64_t *t)
{
    if ((vm->hcount + 1) * 2 > vm->hcap && hgrow(vm) != 0)
        return VM_ENOMEM;
    size_t j = hslot(key, vm->hcap);
    while (vm->hkey[j] != NO_KEY)
        j = (j + 1) & (vm->hcap - 1);
    vm->hkey[j] = key;
    vm->hval[j] = t;
    vm->hcount++;
    return 0;
}

static size_t hfind(const struct guest_vm *vm, uint64_t key)
{
    if (!vm->hcap)
        return SIZE_MAX;
    for (size_t j = hslot(key, vm->hcap);; j = (j + 1) & (vm->hcap - 1)) {
        if (vm->hkey[j] == key)
            return j;
        if (vm->hkey[j] == NO_KEY)
            return SIZE_MAX;
    }
}

/* Remove slot i, shifting later members of its probe run back (linear
 * probing's deletion without tombstones). */
static void hdel(struct guest_vm *vm, size_t i)
{
    size_t mask = vm->hcap - 1;
    for (size_t j = (i + 1) & mask; vm->hkey[j] != NO_KEY; j = (j + 1) & mask) {
        size_t home = hslot(vm->hkey[j], vm->hcap);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            vm->hkey[i] = vm->hkey[j];
            vm->hval[i] = vm->hval[j];
            i = j;
        }
    }
    vm->hkey[i] = NO_KEY;
    vm->hcount--;
}

/* A zeroed table page in a new guest frame: 0, VM_ENOSPC or VM_ENOMEM. */
static int table_new(struct guest_vm *vm, bool upper, uint64_t *gfn, uint64_t **out)
{
    uint64_t f;
    int rc = guest_buddy_alloc(vm->buddy, 0, &f);
    if (rc)
        return rc;
    uint64_t *t = storage_get(vm, upper);
    if (!t || hput(vm, f, t) != 0) {
        if (t)
            storage_put(vm, upper, t);
        guest_buddy_free(vm->buddy, f, 0);
        return VM_ENOMEM;
    }
    vm->nr_tables++;
    *gfn = f;
    *out = t;
    return 0;
}

static void table_release(struct guest_vm *vm, uint64_t gfn, bool upper)
{
    size_t i = hfind(vm, gfn);
    assert(i != SIZE_MAX && "a released table is in the map");
    storage_put(vm, upper, vm->hval[i]);
    hdel(vm, i);
    guest_buddy_free(vm->buddy, gfn, 0);
    vm->nr_tables--;
}

/* ---------------------------------------------------------------- VM / AS */

int guest_vm_new(const struct guest_vm_cfg *cfg, struct guest_vm **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->levels != 4 && cfg->levels != 5)
        return vm_diag_set(d, VM_EINVAL, "paging levels %u: expected 4 or 5 (LA57)",
                           cfg->levels);
    struct guest_vm *vm = calloc(1, sizeof *vm);
    if (!vm)
        return VM_ENOMEM;
    vm->cfg = *cfg;
    int rc = guest_buddy_new(cfg->nr_frames, cfg->aging, cfg->seed, &vm->buddy, d);
    if (rc) {
        free(vm);
        return rc;
    }
    vm->pool[0].size = 4096;
    vm->pool[1].size = 8192;
    *out = vm;
    return 0;
}

void guest_vm_free(struct guest_vm *vm)
{
    if (!vm)
        return;
    for (size_t i = 0; i < vm->nr_as; i++)
        free(vm->as[i]);
    free(vm->as);
    free(vm->hkey);
    free(vm->hval);
    for (size_t i = 0; i < vm->nr_chunks; i++)
        free(vm->chunks[i]);
    free(vm->chunks);
    free(vm->pool[0].spare);
    free(vm->pool[1].spare);
    guest_buddy_free_all(vm->buddy);
    free(vm);
}

unsigned guest_vm_levels(const struct guest_vm *vm) { return vm->cfg.levels; }
uint64_t guest_vm_nr_frames(const struct guest_vm *vm) { return vm->cfg.nr_frames; }
struct guest_buddy *guest_vm_buddy(struct guest_vm *vm) { return vm->buddy; }
uint64_t guest_vm_nr_tables(const struct guest_vm *vm) { return vm->nr_tables; }
uint64_t guest_vm_table_bytes(const struct guest_vm *vm)
{
    return (uint64_t)vm->nr_chunks * CHUNK_BYTES +
           (uint64_t)vm->hcap * (sizeof *vm->hkey + sizeof *vm->hval);
}

uint64_t *guest_vm_table(struct guest_vm *vm, uint64_t gfn)
{
    size_t i = hfind(vm, gfn);
    return i == SIZE_MAX ? NULL : vm->hval[i];
}

uint64_t guest_as_root(const struct guest_as *as) { return as->root_gfn; }
uint64_t guest_as_nr_mapped(const struct guest_as *as) { return as->nr_mapped; }

int guest_as_new(struct guest_vm *vm, struct guest_as **out)
{
    *out = NULL;
    if (vm->nr_as == vm->cap_as) {
        size_t cap = vm->cap_as ? vm->cap_as * 2 : 4;
        struct guest_as **a = realloc(vm->as, cap * sizeof *a);
        if (!a)
            return VM_ENOMEM;
        vm->as = a;
        vm->cap_as = cap;
    }
    struct guest_as *as = calloc(1, sizeof *as);
    if (!as)
        return VM_ENOMEM;
    int rc = table_new(vm, true, &as->root_gfn, &as->root);
    if (rc) {
        free(as);
        return rc;
    }
    as->vm = vm;
    as->levels = vm->cfg.levels;
    as->slot = vm->nr_as;
    vm->as[vm->nr_as++] = as;
    *out = as;
    return 0;
}

/* Give back every frame below table t (in frame gfn) at level lvl, then
 * t itself.  Child tables are found by their shadow pointers, so a table
 * whose entry a caller cleared by hand is still released. */
static void release_tree(struct guest_vm *vm, uint64_t *t, uint64_t gfn, unsigned lvl)
{
    for (unsigned i = 0; i < GUEST_PT_ENTRIES; i++) {
        uint64_t e = t[i];
        if (lvl > 1 && children(t)[i])
            release_tree(vm, children(t)[i], entry_gfn(e), lvl - 1);
        else if (lvl == 1 && (e & GUEST_PTE_P))
            guest_buddy_free(vm->buddy, entry_gfn(e), 0);
        else if (lvl == 2 && (e & GUEST_PTE_P) && (e & GUEST_PTE_PS))
            guest_buddy_free(vm->buddy, entry_gfn(e), HUGE_ORDER);
    }
    table_release(vm, gfn, lvl > 1);
}

void guest_as_free(struct guest_as *as)
{
    if (!as)
        return;
    struct guest_vm *vm = as->vm;
    release_tree(vm, as->root, as->root_gfn, as->levels);
    struct guest_as *last = vm->as[--vm->nr_as];
    vm->as[as->slot] = last;
    last->slot = as->slot;
    free(as);
}

int guest_pt_check_gva(unsigned levels, uint64_t gva, struct vm_diag *d)
{
    if (guest_pt_canonical(levels, gva))
        return 0;
    unsigned bit = levels == 5 ? 56 : 47;
    return vm_diag_set(d, VM_EINVAL,
                       "address 0x%llx is not canonical for %u-level paging "
                       "(bits 63:%u must all equal bit %u)",
                       (unsigned long long)gva, levels, bit, bit);
}

/* ---------------------------------------------------------------- mapping */

static int map_at(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                  unsigned leaf, struct vm_diag *d)
{
    struct guest_vm *vm = as->vm;
    int rc = guest_pt_check_gva(vm->cfg.levels, gva, d);
    if (rc)
        return rc;
    uint64_t npages = leaf == 2 ? GUEST_HUGE_PAGES : 1;
    if (gfn >= vm->cfg.nr_frames || gfn + npages > vm->cfg.nr_frames)
        return vm_diag_set(d, VM_EINVAL, "frame %llu is beyond guest memory (%llu frames)",
                           (unsigned long long)gfn, (unsigned long long)vm->cfg.nr_frames);
    if (leaf == 2 && ((gva & 0x1fffff) || (gfn & 511)))
        return vm_diag_set(d, VM_EINVAL, "2 MiB page at 0x%llx -> frame %llu: both must be "
                           "2 MiB aligned", (unsigned long long)gva, (unsigned long long)gfn);
    uint64_t *t = as->root;
    for (unsigned lvl = vm->cfg.levels; lvl > leaf; lvl--) {
        unsigned i = index_at(gva, lvl);
        uint64_t e = t[i];
        if (!(e & GUEST_PTE_P)) {
            if (children(t)[i])
                return vm_diag_set(d, VM_EBUSY, "address 0x%llx: a table is there with "
                                   "its entry not present", (unsigned long long)gva);
            uint64_t tg;
            uint64_t *nt;
            if ((rc = table_new(vm, lvl - 1 > 1, &tg, &nt)) != 0)
                return rc;
            t[i] = (tg << GUEST_PAGE_SHIFT) | TABLE_FLAGS;
            children(t)[i] = nt;
            t = nt;
            continue;
        }
        if (lvl == 2 && (e & GUEST_PTE_PS))
            return vm_diag_set(d, VM_EBUSY, "address 0x%llx is inside a 2 MiB page",
                               (unsigned long long)gva);
        t = children(t)[i];
    }
    unsigned i = index_at(gva, leaf);
    if ((t[i] & GUEST_PTE_P) || (leaf == 2 && children(t)[i]))
        return vm_diag_set(d, VM_EBUSY, "address 0x%llx is already mapped%s",
                           (unsigned long long)gva, leaf == 2 ? " (a table or a page)" : "");
    t[i] = (gfn << GUEST_PAGE_SHIFT) | (flags & LEAF_KEEP) | GUEST_PTE_P |
           (leaf == 2 ? GUEST_PTE_PS : 0);
    as->nr_mapped += npages;
    return 0;
}

int guest_pt_map(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                 struct vm_diag *d)
{
    return map_at(as, gva, gfn, flags, 1, d);
}

int guest_pt_map_huge(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                      struct vm_diag *d)
{
    return map_at(as, gva, gfn, flags, 2, d);
}

/* Pointer to the leaf entry mapping gva, its level in *lvl; NULL if none. */
static uint64_t *leaf_entry(const struct guest_as *as, uint64_t gva, unsigned *lvl)
{
    const struct guest_vm *vm = as->vm;
    uint64_t *t = as->root;
    for (unsigned l = vm->cfg.levels;; l--) {
        uint64_t *ep = &t[index_at(gva, l)];
        if (!(*ep & GUEST_PTE_P))
            return NULL;
        if (l == 1 || (l == 2 && (*ep & GUEST_PTE_PS))) {
            *lvl = l;
            return ep;
        }
        t = children(t)[index_at(gva, l)];
    }
}

int guest_pt_unmap(struct guest_as *as, uint64_t gva)
{
    unsigned lvl;
    if (!guest_pt_canonical(as->vm->cfg.levels, gva))
        return VM_ENOENT;
    uint64_t *ep = leaf_entry(as, gva, &lvl);
    if (!ep)
        return VM_ENOENT;
    *ep = 0;
    as->nr_mapped -= lvl == 2 ? GUEST_HUGE_PAGES : 1;
    return 0;
}

int guest_as_fault_in(struct guest_as *as, uint64_t gva, bool write, uint64_t *gfn,
                      struct vm_diag *d)
{
    struct guest_vm *vm = as->vm;
    int rc = guest_pt_check_gva(vm->cfg.levels, gva, d);
    if (rc)
        return rc;
    /* The MMU's walk: A on every entry used, D on the leaf for a write. */
    uint64_t *t = as->root;
    unsigned l = vm->cfg.levels;
    for (;; l--) {
        uint64_t *ep = &t[index_at(gva, l)];
        if (!(*ep & GUEST_PTE_P))
            break;
        *ep |= GUEST_PTE_A;
        bool huge = l == 2 && (*ep & GUEST_PTE_PS);
        if (l == 1 || huge) {
            if (write)
                *ep |= GUEST_PTE_D;
            *gfn = entry_gfn(*ep) + (huge ? (gva >> GUEST_PAGE_SHIFT) & 511 : 0);
            return 0;
        }
        t = children(t)[index_at(gva, l)];
    }
    /* Not mapped (absent at level l): the guest's fault handler. */
    uint64_t flags = GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_A | (write ? GUEST_PTE_D : 0);
    uint64_t f;
    if (vm->cfg.thp && l >= 2 && guest_buddy_alloc(vm->buddy, HUGE_ORDER, &f) == 0) {
        uint64_t base = gva & ~0x1fffffull;
        if ((rc = guest_pt_map_huge(as, base, f, flags, d)) != 0) {
            guest_buddy_free(vm->buddy, f, HUGE_ORDER);
            return rc;
        }
        *gfn = f + ((gva >> GUEST_PAGE_SHIFT) & 511);
        return 0;
    }
    if ((rc = guest_buddy_alloc(vm->buddy, 0, &f)) != 0)
        return vm_diag_set(d, rc, "guest out of memory mapping 0x%llx",
                           (unsigned long long)gva);
    if ((rc = guest_pt_map(as, gva & ~0xfffull, f, flags, d)) != 0) {
        guest_buddy_free(vm->buddy, f, 0);
        return rc;
    }
    *gfn = f;
    return 0;
}

/* ------------------------------------------------------------------ walks */

int guest_pt_walk(const struct guest_as *as, uint64_t gva, struct guest_walk *w,
                  struct guest_walk_cost *cost)
{
    const struct guest_vm *vm = as->vm;
    memset(w, 0, sizeof *w);
    if (!guest_pt_canonical(vm->cfg.levels, gva)) {
        w->fault = GUEST_WALK_NONCANONICAL;
        w->level = vm->cfg.levels;
        return VM_EINVAL;
    }
    if (cost)
        cost->walks++;
    const uint64_t *t = as->root;
    uint64_t tgfn = as->root_gfn;
    for (unsigned l = vm->cfg.levels;; l--) {
        unsigned i = index_at(gva, l);
        uint64_t e = t[i];
        if (cost)
            cost->entries++;
        w->level = l;
        w->table_gfn = tgfn;
        w->index = i;
        if (!(e & GUEST_PTE_P)) {
            w->fault = GUEST_WALK_NOT_PRESENT;
            return VM_ENOENT;
        }
        if (l == 1 || (l == 2 && (e & GUEST_PTE_PS))) {
            uint64_t mask = l == 1 ? 0xfffull : 0x1fffffull;
            w->entry = e;
            w->gpa = ((e & GUEST_PTE_ADDR) & ~mask) | (gva & mask);
            return 0;
        }
        tgfn = entry_gfn(e);
        t = children(t)[i];
    }
}

int guest_pt_translate(const struct guest_as *as, uint64_t gva, uint64_t *gfn)
{
    unsigned levels = as->levels;
    if (!guest_pt_canonical(levels, gva))
        return VM_EINVAL;
    /* Upper levels: test P, follow the shadow pointer (one dependent load). */
    const uint64_t *t = as->root;
    for (unsigned l = levels; l > 2; l--) {
        unsigned i = index_at(gva, l);
        if (!(t[i] & GUEST_PTE_P))
            return VM_ENOENT;
        t = children(t)[i];
    }
    unsigned i = index_at(gva, 2);
    uint64_t e = t[i];
    if (!(e & GUEST_PTE_P))
        return VM_ENOENT;
    if (e & GUEST_PTE_PS) {
        *gfn = entry_gfn(e) + ((gva >> GUEST_PAGE_SHIFT) & 511);
        return 0;
    }
    e = children(t)[i][index_at(gva, 1)];
    if (!(e & GUEST_PTE_P))
        return VM_ENOENT;
    *gfn = entry_gfn(e);
    return 0;
}

/*
 * Walk down to the PD entry for va.  0: *pt is the last-level table (or
 * NULL with *pde a 2 MiB page's entry).  Otherwise the level (>= 2) whose
 * entry is absent.
 */
static unsigned down_to_pt(const struct guest_as *as, uint64_t va, const uint64_t **pt,
                           uint64_t *pde, struct guest_walk_cost *cost)
{
    const struct guest_vm *vm = as->vm;
    const uint64_t *t = as->root;
    if (cost)
        cost->walks++;
    for (unsigned l = vm->cfg.levels; l >= 2; l--) {
        unsigned i = index_at(va, l);
        uint64_t e = t[i];
        if (cost)
            cost->entries++;
        if (!(e & GUEST_PTE_P))
            return l;
        if (l == 2) {
            *pde = e;
            *pt = (e & GUEST_PTE_PS) ? NULL : children(t)[i];
            return 0;
        }
        t = children(t)[i];
    }
    assert(0 && "the loop returns at level 2");
    return 2;
}

uint32_t guest_pt_xlat_range(const struct guest_as *as, uint64_t gva_first, uint32_t n,
                             struct guest_xlat *out, struct guest_walk_cost *cost)
{
    unsigned levels = as->vm->cfg.levels;
    uint64_t va = gva_first & ~0xfffull;
    uint64_t left = n;
    uint32_t got = 0;
    uint64_t region = ~0ull;            /* va >> 21 of the cached table */
    const uint64_t *pt = NULL;
    uint64_t pde = 0;
    while (left) {
        if (!guest_pt_canonical(levels, va)) {
            /* Skip to the upper half, or stop at the top: nothing maps here. */
            unsigned top = levels == 5 ? 57 : 48;
            uint64_t upper = ~0ull << (top - 1);
            if (va > upper)
                break;
            uint64_t skip = (upper - va) >> GUEST_PAGE_SHIFT;
            if (skip >= left)
                break;
            left -= skip;
            va = upper;
            region = ~0ull;
            continue;
        }
        if ((va >> 21) != region) {
            unsigned absent = down_to_pt(as, va, &pt, &pde, cost);
            if (absent) {
                /* Nothing below the absent entry: skip the span it covers. */
                unsigned shift = GUEST_PAGE_SHIFT + 9 * (absent - 1);
                uint64_t span_end = (va | ((1ull << shift) - 1));
                uint64_t skip = ((span_end - va) >> GUEST_PAGE_SHIFT) + 1;
                if (skip >= left || span_end == ~0ull)
                    break;
                left -= skip;
                va = span_end + 1;
                region = ~0ull;
                continue;
            }
            region = va >> 21;
        }
        unsigned i = (unsigned)(va >> GUEST_PAGE_SHIFT) & 511;
        if (!pt) {
            out[got].gva = va;
            out[got++].gfn = entry_gfn(pde) + i;
        } else {
            uint64_t e = pt[i];
            if (cost)
                cost->entries++;
            if (e & GUEST_PTE_P) {
                out[got].gva = va;
                out[got++].gfn = entry_gfn(e);
            }
        }
        left--;
        if (va == ~0xfffull)
            break;                      /* the last page of the address space */
        va += 4096;
    }
    return got;
}

int guest_pt_xlat_table(const struct guest_as *as, uint64_t gva, struct guest_xlat *out,
                        struct guest_walk_cost *cost)
{
    if (!guest_pt_canonical(as->vm->cfg.levels, gva))
        return VM_EINVAL;
    const uint64_t *pt;
    uint64_t pde;
    if (down_to_pt(as, gva, &pt, &pde, cost))
        return 0;
    uint64_t base = gva & ~0x1fffffull;
    int got = 0;
    for (unsigned i = 0; i < GUEST_PT_ENTRIES; i++) {
        uint64_t gfn;
        if (!pt) {
            gfn = entry_gfn(pde) + i;
        } else {
            uint64_t e = pt[i];
            if (cost)
                cost->entries++;
            if (!(e & GUEST_PTE_P))
                continue;
            gfn = entry_gfn(e);
        }
        out[got].gva = base + ((uint64_t)i << GUEST_PAGE_SHIFT);
        out[got++].gfn = gfn;
    }
    return got;
}

/* ---------------------------------------------------------- fragmentation */

struct frag_walk {
    struct guest_frag *f;
    uint64_t prev_vpn, prev_gfn;
    bool have_prev;
};

static void frag_add(struct frag_walk *s, uint64_t vpn, uint64_t gfn, uint64_t n)
{
    if (!(s->have_prev && vpn == s->prev_vpn + 1 && gfn == s->prev_gfn + 1))
        s->f->runs++;
    s->f->pages += n;
    s->prev_vpn = vpn + n - 1;
    s->prev_gfn = gfn + n - 1;
    s->have_prev = true;
}

static void frag_tree(const struct guest_vm *vm, const uint64_t *t, unsigned lvl,
                      uint64_t vpn_base, struct frag_walk *s)
{
    for (unsigned i = 0; i < GUEST_PT_ENTRIES; i++) {
        uint64_t e = t[i];
        if (!(e & GUEST_PTE_P))
            continue;
        uint64_t vpn = vpn_base + ((uint64_t)i << (9 * (lvl - 1)));
        if (lvl == 1)
            frag_add(s, vpn, entry_gfn(e), 1);
        else if (lvl == 2 && (e & GUEST_PTE_PS))
            frag_add(s, vpn, entry_gfn(e), GUEST_HUGE_PAGES);
        else
            frag_tree(vm, children(t)[i], lvl - 1, vpn, s);
    }
}

void guest_pt_frag(const struct guest_as *as, struct guest_frag *f)
{
    struct frag_walk s = { .f = f };
    frag_tree(as->vm, as->root, as->vm->cfg.levels, 0, &s);
    f->mean_run_pages = f->runs ? (double)f->pages / (double)f->runs : 0.0;
}
