/*
 * guest_pt.c - x86-64 4- and 5-level guest page tables: table pages in
 * guest frames from the buddy allocator, the guest's mapping and
 * fault-in paths, the hypervisor's walks and neighbour translations, and
 * the measured fragmentation (see guest_pt.h).
 *
 * Table contents live in simulator memory as guest_pt_store.c keeps them
 * (guest_pt_int.h): compact while a table has few entries, 512 entries
 * (and 512 child references in an upper table) once it has more.  Every
 * walk here goes through tab_ep()/tab_get(), which read either form.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "base/vm_prefetch.h"
#include "guest/guest_buddy.h"
#include "guest/guest_pt.h"
#include "guest/guest_pt_int.h"

#define TABLE_FLAGS (GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_A)
#define LEAF_KEEP (GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_PWT | GUEST_PTE_PCD | \
                   GUEST_PTE_A | GUEST_PTE_D | GUEST_PTE_G | GUEST_PTE_XD)
#define HUGE_ORDER 9

static inline unsigned index_at(uint64_t gva, unsigned lvl)
{
    return (unsigned)(gva >> (GUEST_PAGE_SHIFT + 9 * (lvl - 1))) & 511;
}

static inline uint64_t entry_gfn(uint64_t e)
{
    return (e & GUEST_PTE_ADDR) >> GUEST_PAGE_SHIFT;
}

/* The last-level table of gva's 2 MiB region if the paging-structure
 * cache holds it, else 0. */
static inline uintptr_t pdc_get(const struct guest_as *as, uint64_t gva)
{
    const struct guest_pdc *p = &as->pdc[(gva >> 21) & as->pdc_mask];
    return p->region == gva >> 21 && p->gen == as->vm->gen ? p->pt : 0;
}

static inline void pdc_put(const struct guest_as *as, uint64_t gva, uintptr_t pt)
{
    struct guest_pdc *p = &as->pdc[(gva >> 21) & as->pdc_mask];
    p->region = gva >> 21;
    p->gen = as->vm->gen;
    p->pt = pt;
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
    vm->gen = 1;                          /* a zeroed cache entry is stale */
    int rc = guest_buddy_new(cfg->nr_frames, cfg->aging, cfg->seed, &vm->buddy, d);
    if (rc) {
        free(vm);
        return rc;
    }
    vm->pool[0].size = GUEST_PT_ENTRIES * sizeof(uint64_t);
    vm->pool[1].size = 2 * GUEST_PT_ENTRIES * sizeof(uint64_t);
    *out = vm;
    return 0;
}

void guest_vm_free(struct guest_vm *vm)
{
    if (!vm)
        return;
    for (size_t i = 0; i < vm->nr_as; i++) {
        free(vm->as[i]->pdc);
        free(vm->as[i]);
    }
    free(vm->as);
    store_free(vm);
    guest_buddy_free_all(vm->buddy);
    free(vm);
}

unsigned guest_vm_levels(const struct guest_vm *vm) { return vm->cfg.levels; }
uint64_t guest_vm_nr_frames(const struct guest_vm *vm) { return vm->cfg.nr_frames; }
const uint64_t *guest_vm_gen(const struct guest_vm *vm) { return &vm->gen; }
struct guest_buddy *guest_vm_buddy(struct guest_vm *vm) { return vm->buddy; }
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
    /* one entry per 2 MiB of guest memory, within [GUEST_PDC_MIN,
     * GUEST_PDC_MAX]: a guest touching all its memory at random keeps
     * its tables cached, a small one pays little */
    uint64_t n = GUEST_PDC_MIN;
    while (n < GUEST_PDC_MAX && n * 512 < vm->cfg.nr_frames)
        n *= 2;
    as->pdc_mask = n - 1;
    as->pdc = calloc(n, sizeof *as->pdc);
    int rc = as->pdc ? store_table_new(vm, true, &as->root_gfn, &as->root) : VM_ENOMEM;
    if (rc) {
        free(as->pdc);
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
 * t itself.  Child tables are found by their child references, so a
 * table whose entry a caller cleared by hand is still released. */
static void release_tree(struct guest_vm *vm, uintptr_t t, uint64_t gfn, unsigned lvl)
{
    bool upper = lvl > 1;
    for (unsigned k = 0, n = tab_nr_slots(t); k < n; k++) {
        uint64_t e;
        uintptr_t kid = 0;
        tab_slot_at(t, k, upper, &e, &kid);
        if (upper && kid)
            release_tree(vm, kid, entry_gfn(e), lvl - 1);
        else if (lvl == 1 && (e & GUEST_PTE_P))
            guest_buddy_free(vm->buddy, entry_gfn(e), 0);
        else if (lvl == 2 && (e & GUEST_PTE_P) && (e & GUEST_PTE_PS))
            guest_buddy_free(vm->buddy, entry_gfn(e), HUGE_ORDER);
    }
    store_table_release(vm, gfn, t, upper);
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
    free(as->pdc);
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

/* Map gva at level leaf.  free_known: the caller's walk found nothing
 * there (the fault-in path), so the checks are skipped. */
static int map_at(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                  unsigned leaf, bool free_known, struct vm_diag *d)
{
    struct guest_vm *vm = as->vm;
    int rc;
    uint64_t npages = leaf == 2 ? GUEST_HUGE_PAGES : 1;
    if (free_known)
        goto make;
    if ((rc = guest_pt_check_gva(vm->cfg.levels, gva, d)) != 0)
        return rc;
    if (gfn >= vm->cfg.nr_frames || gfn + npages > vm->cfg.nr_frames)
        return vm_diag_set(d, VM_EINVAL, "frame %llu is beyond guest memory (%llu frames)",
                           (unsigned long long)gfn, (unsigned long long)vm->cfg.nr_frames);
    if (leaf == 2 && ((gva & 0x1fffff) || (gfn & 511)))
        return vm_diag_set(d, VM_EINVAL, "2 MiB page at 0x%llx -> frame %llu: both must be "
                           "2 MiB aligned", (unsigned long long)gva, (unsigned long long)gfn);
    /* Read-only first: refuse a busy address before any table is made. */
    uintptr_t t = as->root, kid = 0;
    unsigned lvl = vm->cfg.levels;
    for (; lvl > leaf; lvl--) {
        uint64_t e = tab_get(t, index_at(gva, lvl), true, &kid);
        if (!(e & GUEST_PTE_P)) {
            if (kid)
                return vm_diag_set(d, VM_EBUSY, "address 0x%llx: a table is there with "
                                   "its entry not present", (unsigned long long)gva);
            break;
        }
        if (lvl == 2 && (e & GUEST_PTE_PS))
            return vm_diag_set(d, VM_EBUSY, "address 0x%llx is inside a 2 MiB page",
                               (unsigned long long)gva);
        t = kid;
    }
    if (lvl == leaf) {
        uint64_t e = tab_get(t, index_at(gva, leaf), leaf > 1, &kid);
        if ((e & GUEST_PTE_P) || (leaf == 2 && kid))
            return vm_diag_set(d, VM_EBUSY, "address 0x%llx is already mapped%s",
                               (unsigned long long)gva,
                               leaf == 2 ? " (a table or a page)" : "");
    }
make:
    /* Then down again, making slots and missing tables; a table that
     * grows moves, and store_slot() repoints whoever names it. */
    uintptr_t *tp = &as->root;
    uint64_t tgfn = as->root_gfn;
    for (unsigned l = vm->cfg.levels; l > leaf; l--) {
        uintptr_t *kp;
        uint64_t *ep = store_slot(vm, tp, tgfn, index_at(gva, l), true, &kp);
        if (!ep)
            return VM_ENOMEM;
        if (!(*ep & GUEST_PTE_P)) {
            uint64_t ng;
            uintptr_t nt;
            if ((rc = store_table_new(vm, l - 1 > 1, &ng, &nt)) != 0)
                return rc;
            *ep = (ng << GUEST_PAGE_SHIFT) | TABLE_FLAGS;
            *kp = nt;
        }
        tgfn = entry_gfn(*ep);
        tp = kp;
    }
    uintptr_t *kp;
    uint64_t *ep = store_slot(vm, tp, tgfn, index_at(gva, leaf), leaf > 1, &kp);
    if (!ep)
        return VM_ENOMEM;
    *ep = (gfn << GUEST_PAGE_SHIFT) | (flags & LEAF_KEEP) | GUEST_PTE_P |
          (leaf == 2 ? GUEST_PTE_PS : 0);
    as->nr_mapped += npages;
    return 0;
}

int guest_pt_map(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                 struct vm_diag *d)
{
    return map_at(as, gva, gfn, flags, 1, false, d);
}

int guest_pt_map_huge(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                      struct vm_diag *d)
{
    return map_at(as, gva, gfn, flags, 2, false, d);
}

/* Pointer to the leaf entry mapping gva, its level in *lvl; NULL if none. */
static uint64_t *leaf_entry(const struct guest_as *as, uint64_t gva, unsigned *lvl)
{
    const struct guest_vm *vm = as->vm;
    uintptr_t t = as->root, kid = 0;
    for (unsigned l = vm->cfg.levels;; l--) {
        uint64_t *ep = tab_ep(t, index_at(gva, l), l > 1, &kid);
        if (!ep || !(*ep & GUEST_PTE_P))
            return NULL;
        if (l == 1 || (l == 2 && (*ep & GUEST_PTE_PS))) {
            *lvl = l;
            return ep;
        }
        t = kid;
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
    /* The MMU's walk: A on every entry used, D on the leaf for a write;
     * as the MMU, it writes an entry only to set a bit that is clear (a
     * store to every entry would dirty the cache line of every table
     * walked, and cost the replay its memory bandwidth). */
    uintptr_t t = pdc_get(as, gva), kid = 0;
    unsigned l = vm->cfg.levels;
    if (t)
        l = 1;                            /* the cache names its last-level table */
    else
        t = as->root;
    for (;; l--) {
        uint64_t *ep = tab_ep(t, index_at(gva, l), l > 1, &kid);
        uint64_t e = ep ? *ep : 0;
        if (!(e & GUEST_PTE_P))
            break;
        if (!(e & GUEST_PTE_A))
            *ep = e |= GUEST_PTE_A;
        bool huge = l == 2 && (e & GUEST_PTE_PS);
        if (l == 1 || huge) {
            if (write && !(e & GUEST_PTE_D))
                *ep = e | GUEST_PTE_D;
            *gfn = entry_gfn(e) + (huge ? (gva >> GUEST_PAGE_SHIFT) & 511 : 0);
            return 0;
        }
        if (l == 2)
            pdc_put(as, gva, kid);
        t = kid;
    }
    /* Not mapped (absent at level l): the guest's fault handler. */
    uint64_t flags = GUEST_PTE_RW | GUEST_PTE_US | GUEST_PTE_A | (write ? GUEST_PTE_D : 0);
    uint64_t f;
    if (vm->cfg.thp && l >= 2 && guest_buddy_alloc(vm->buddy, HUGE_ORDER, &f) == 0) {
        uint64_t base = gva & ~0x1fffffull;
        if ((rc = map_at(as, base, f, flags, 2, true, d)) != 0) {
            guest_buddy_free(vm->buddy, f, HUGE_ORDER);
            return rc;
        }
        *gfn = f + ((gva >> GUEST_PAGE_SHIFT) & 511);
        return 0;
    }
    if ((rc = guest_buddy_alloc(vm->buddy, 0, &f)) != 0)
        return vm_diag_set(d, rc, "guest out of memory mapping 0x%llx",
                           (unsigned long long)gva);
    if (l == 1 && !(t & 1)) {
        /* The last-level table is there and full: the entry is in place. */
        ((uint64_t *)t)[index_at(gva, 1)] = (f << GUEST_PAGE_SHIFT) | flags | GUEST_PTE_P;
        as->nr_mapped++;
        *gfn = f;
        return 0;
    }
    if ((rc = map_at(as, gva & ~0xfffull, f, flags, 1, true, d)) != 0) {
        guest_buddy_free(vm->buddy, f, 0);
        return rc;
    }
    *gfn = f;
    return 0;
}

/* ------------------------------------------------------------------ walks */

/* Whether rd lets a walk read the table in frame gfn. */
static inline bool can_read(const struct guest_pt_reader *rd, uint64_t gfn)
{
    return !rd || !rd->readable || rd->readable(rd->arg, gfn);
}

unsigned guest_pt_walk_tables(const struct guest_as *as, uint64_t gva, uint64_t *gfns)
{
    unsigned levels = as->levels, n = 0;
    if (!guest_pt_canonical(levels, gva))
        return 0;
    if (as->path_gen == as->vm->gen && as->path_region == gva >> 21) {
        memcpy(gfns, as->path, levels * sizeof *gfns);
        return levels;
    }
    uintptr_t t = as->root, kid = 0;
    uint64_t tgfn = as->root_gfn;
    for (unsigned l = levels;; l--) {
        gfns[n++] = tgfn;
        if (l == 1) {
            struct guest_as *w = (struct guest_as *)as;   /* the cache is not the tables */
            w->path_region = gva >> 21;
            w->path_gen = as->vm->gen;
            memcpy(w->path, gfns, levels * sizeof *gfns);
            return n;
        }
        uint64_t e = tab_get(t, index_at(gva, l), true, &kid);
        if (!(e & GUEST_PTE_P) || (l == 2 && (e & GUEST_PTE_PS)))
            return n;
        tgfn = entry_gfn(e);
        t = kid;
    }
}

int guest_pt_walk(const struct guest_as *as, uint64_t gva, struct guest_walk *w,
                  struct guest_walk_cost *cost)
{
    return guest_pt_walk_rd(as, NULL, gva, w, cost);
}

int guest_pt_walk_rd(const struct guest_as *as, const struct guest_pt_reader *rd, uint64_t gva,
                     struct guest_walk *w, struct guest_walk_cost *cost)
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
    uintptr_t t = as->root, kid = 0;
    uint64_t tgfn = as->root_gfn;
    for (unsigned l = vm->cfg.levels;; l--) {
        unsigned i = index_at(gva, l);
        w->level = l;
        w->table_gfn = tgfn;
        w->index = i;
        if (!can_read(rd, tgfn)) {
            w->fault = GUEST_WALK_UNREADABLE;
            return VM_EAGAIN;
        }
        uint64_t e = tab_get(t, i, l > 1, &kid);
        if (cost)
            cost->entries++;
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
        t = kid;
    }
}

/* guest_pt_translate(), filling the PDE cache from the walk or not. */
static int translate(const struct guest_as *as, uint64_t gva, uint64_t *gfn, bool fill)
{
    unsigned levels = as->levels;
    if (!guest_pt_canonical(levels, gva))
        return VM_EINVAL;
    uintptr_t t = pdc_get(as, gva), kid = 0;
    if (t) {
        uint64_t e = tab_get(t, index_at(gva, 1), false, NULL);
        if (!(e & GUEST_PTE_P))
            return VM_ENOENT;
        *gfn = entry_gfn(e);
        return 0;
    }
    /* Upper levels: test P, follow the child reference (one dependent
     * load for a full table). */
    t = as->root;
    uint64_t all = GUEST_PTE_A;           /* A of every entry above the leaf */
    for (unsigned l = levels; l > 2; l--) {
        uint64_t u = tab_get(t, index_at(gva, l), true, &kid);
        if (!(u & GUEST_PTE_P))
            return VM_ENOENT;
        all &= u;
        t = kid;
    }
    uint64_t e = tab_get(t, index_at(gva, 2), true, &kid);
    if (!(e & GUEST_PTE_P))
        return VM_ENOENT;
    if (e & GUEST_PTE_PS) {
        *gfn = entry_gfn(e) + ((gva >> GUEST_PAGE_SHIFT) & 511);
        return 0;
    }
    /* this walk sets no A bit: it fills the cache only where the MMU's
     * walk would have nothing to set above the leaf (guest_pt_int.h) */
    if (fill && (all & e & GUEST_PTE_A))
        pdc_put(as, gva, kid);
    e = tab_get(kid, index_at(gva, 1), false, NULL);
    if (!(e & GUEST_PTE_P))
        return VM_ENOENT;
    *gfn = entry_gfn(e);
    return 0;
}

int guest_pt_translate(const struct guest_as *as, uint64_t gva, uint64_t *gfn)
{
    return translate(as, gva, gfn, true);
}

int guest_pt_peek(const struct guest_as *as, uint64_t gva, uint64_t *gfn)
{
    return translate(as, gva, gfn, false);
}

/* Prefetch entry i of last-level table t: its line in a full table; a
 * compact table's header, indices and first entries (two lines: most of a
 * small table, whose slot for i is not known before its indices are
 * read). */
static inline void prefetch_leaf_entry(uintptr_t t, unsigned i)
{
    if (!(t & 1)) {
        vm_prefetch((const uint64_t *)t + i);
    } else {
        vm_prefetch(ctab_of(t));
        vm_prefetch((const char *)ctab_of(t) + 64);
    }
}

void guest_pt_prefetch_pdc(const struct guest_as *as, uint64_t gva)
{
    vm_prefetch(&as->pdc[(gva >> 21) & as->pdc_mask]);
}

void guest_pt_prefetch_leaf(const struct guest_as *as, uint64_t gva, struct guest_leaf *ref)
{
    ref->pt = 0;
    if (!guest_pt_canonical(as->levels, gva))
        return;
    uintptr_t t = pdc_get(as, gva), kid = 0;
    if (!t) {
        t = as->root;
        for (unsigned l = as->levels; l > 1; l--) {
            uint64_t e = tab_get(t, index_at(gva, l), true, &kid);
            if ((e & (GUEST_PTE_P | GUEST_PTE_A | GUEST_PTE_PS)) != (GUEST_PTE_P | GUEST_PTE_A))
                return;
            t = kid;
        }
    }
    prefetch_leaf_entry(t, index_at(gva, 1));
    ref->pt = t;
    ref->gen = as->vm->gen;
}

int guest_pt_peek_leaf(const struct guest_as *as, uint64_t gva, const struct guest_leaf *ref,
                       uint64_t *gfn)
{
    if (!ref->pt || ref->gen != as->vm->gen)
        return VM_EAGAIN;
    uint64_t e = tab_get(ref->pt, index_at(gva, 1), false, NULL);
    if (!(e & GUEST_PTE_P))
        return VM_ENOENT;
    *gfn = entry_gfn(e);
    return 0;
}

int guest_as_access_leaf(struct guest_as *as, uint64_t gva, const struct guest_leaf *ref,
                         bool write, uint64_t *gfn)
{
    if (!ref->pt || ref->gen != as->vm->gen)
        return VM_EAGAIN;
    /* guest_as_fault_in()'s leaf, as on a paging-structure cache hit */
    uint64_t *ep = tab_ep(ref->pt, index_at(gva, 1), false, NULL);
    return ep && guest_pte_access(ep, write, gfn) ? 0 : VM_ENOENT;
}

/*
 * Walk down to the PD entry for va.  0: *pt is the last-level table (or
 * 0 with *pde a 2 MiB page's entry).  Otherwise the level (>= 2) whose
 * entry is absent, or above whose table rd refused (levels + 1 for the
 * root): nothing below it is known, and the span one entry of that level
 * covers is skipped.
 */
static unsigned down_to_pt(const struct guest_as *as, const struct guest_pt_reader *rd,
                           uint64_t va, uintptr_t *pt, uint64_t *pde,
                           struct guest_walk_cost *cost)
{
    const struct guest_vm *vm = as->vm;
    uintptr_t t = as->root, kid = 0;
    uint64_t tgfn = as->root_gfn;
    if (cost)
        cost->walks++;
    for (unsigned l = vm->cfg.levels; l >= 2; l--) {
        if (!can_read(rd, tgfn))
            return l + 1;               /* the table's whole span */
        uint64_t e = tab_get(t, index_at(va, l), true, &kid);
        if (cost)
            cost->entries++;
        if (!(e & GUEST_PTE_P))
            return l;
        if (l == 2) {
            if (!(e & GUEST_PTE_PS) && !can_read(rd, entry_gfn(e)))
                return 2;               /* the last-level table: its 2 MiB */
            *pde = e;
            *pt = (e & GUEST_PTE_PS) ? 0 : kid;
            return 0;
        }
        tgfn = entry_gfn(e);
        t = kid;
    }
    assert(0 && "the loop returns at level 2");
    return 2;
}

uint32_t guest_pt_xlat_range(const struct guest_as *as, uint64_t gva_first, uint32_t n,
                             struct guest_xlat *out, struct guest_walk_cost *cost)
{
    return guest_pt_xlat_range_rd(as, NULL, gva_first, n, out, cost);
}

uint32_t guest_pt_xlat_range_rd(const struct guest_as *as, const struct guest_pt_reader *rd,
                                uint64_t gva_first, uint32_t n, struct guest_xlat *out,
                                struct guest_walk_cost *cost)
{
    unsigned levels = as->vm->cfg.levels;
    uint64_t va = gva_first & ~0xfffull;
    uint64_t left = n;
    uint32_t got = 0;
    uint64_t region = ~0ull;            /* va >> 21 of the cached table */
    uintptr_t pt = 0;
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
            unsigned absent = down_to_pt(as, rd, va, &pt, &pde, cost);
            if (absent) {
                /* Nothing below the absent entry: skip the span it covers. */
                unsigned shift = GUEST_PAGE_SHIFT + 9 * (absent - 1);
                uint64_t span_end = shift >= 64 ? ~0ull : (va | ((1ull << shift) - 1));
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
            uint64_t e = tab_get(pt, i, false, NULL);
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
    return guest_pt_xlat_table_rd(as, NULL, gva, out, cost);
}

int guest_pt_xlat_table_rd(const struct guest_as *as, const struct guest_pt_reader *rd,
                           uint64_t gva, struct guest_xlat *out, struct guest_walk_cost *cost)
{
    if (!guest_pt_canonical(as->vm->cfg.levels, gva))
        return VM_EINVAL;
    uintptr_t pt;
    uint64_t pde;
    if (down_to_pt(as, rd, gva, &pt, &pde, cost))
        return 0;
    uint64_t base = gva & ~0x1fffffull;
    int got = 0;
    if (!pt) {
        for (unsigned i = 0; i < GUEST_PT_ENTRIES; i++) {
            out[got].gva = base + ((uint64_t)i << GUEST_PAGE_SHIFT);
            out[got++].gfn = entry_gfn(pde) + i;
        }
        return got;
    }
    /* Every entry of the table is read (a compact one holds the rest as 0). */
    if (cost)
        cost->entries += GUEST_PT_ENTRIES;
    for (unsigned k = 0, n = tab_nr_slots(pt); k < n; k++) {
        uint64_t e;
        unsigned i = tab_slot_at(pt, k, false, &e, NULL);
        if (!(e & GUEST_PTE_P))
            continue;
        out[got].gva = base + ((uint64_t)i << GUEST_PAGE_SHIFT);
        out[got++].gfn = entry_gfn(e);
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

static void frag_tree(const struct guest_vm *vm, uintptr_t t, unsigned lvl,
                      uint64_t vpn_base, struct frag_walk *s)
{
    for (unsigned k = 0, n = tab_nr_slots(t); k < n; k++) {
        uint64_t e;
        uintptr_t kid = 0;
        unsigned i = tab_slot_at(t, k, lvl > 1, &e, &kid);
        if (!(e & GUEST_PTE_P))
            continue;
        uint64_t vpn = vpn_base + ((uint64_t)i << (9 * (lvl - 1)));
        if (lvl == 1)
            frag_add(s, vpn, entry_gfn(e), 1);
        else if (lvl == 2 && (e & GUEST_PTE_PS))
            frag_add(s, vpn, entry_gfn(e), GUEST_HUGE_PAGES);
        else
            frag_tree(vm, kid, lvl - 1, vpn, s);
    }
}

void guest_pt_frag(const struct guest_as *as, struct guest_frag *f)
{
    struct frag_walk s = { .f = f };
    frag_tree(as->vm, as->root, as->vm->cfg.levels, 0, &s);
    f->mean_run_pages = f->runs ? (double)f->pages / (double)f->runs : 0.0;
}
