/*
 * guest_pt_int.h - what guest_pt.c (mapping, fault-in, walks) and
 * guest_pt_store.c (where table contents live in simulator memory) share;
 * private to models/guest.
 *
 * A table is named by a table reference (uintptr_t): the address of its
 * storage, with bit 0 set when the table is compact.
 *
 *   full      an upper-level table (PML5, PML4, PDPT, PD) is 8 KiB: its
 *             512 entries, then 512 child references, a shadow of the
 *             entries' address fields, so a walk costs one dependent load
 *             per level; a last-level table is its 4 KiB of entries.
 *   compact   struct guest_ctab: up to GUEST_CTAB_MAX slots, each an
 *             entry index (ascending), the entry and, for an upper table,
 *             the child reference.  An index without a slot holds entry 0.
 *
 * A table starts compact and is made full when a slot beyond
 * GUEST_CTAB_MAX is needed (or when guest_vm_table() hands out its 512
 * entries), so simulator memory stays proportional to the entries present:
 * a sparse address space (one page in each of many 1 GiB regions) costs
 * tens of bytes per table, not 12 KiB.  A table's storage moves when it
 * grows; whoever holds its reference (the parent's child slot, the
 * address space's root) is updated by store_slot().
 */
#ifndef GUEST_PT_INT_H
#define GUEST_PT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/guest_pt.h"

#define GUEST_CTAB_MAX 32u               /* slots of a compact table before it goes full */

/*
 * The paging-structure cache of an address space (SDM vol. 3A, 4.10.3:
 * the "PDE cache"): 2 MiB region (gva >> 21) -> its last-level table, so
 * that translate and fault-in read one entry instead of walking every
 * level; a simulator speed-up.  An entry counts only while its gen equals
 * the VM's table generation, which moves whenever a table moves, is
 * released, or is handed out writable (guest_vm_table()).  An entry is
 * filled only by a walk after which every entry above the leaf has its A
 * bit: guest_as_fault_in()'s walk sets them, as the CPU's does; the
 * read-only guest_pt_translate() fills only where they are set already.
 * So a hit skips no A bit a full walk would set.  Direct-mapped, one entry
 * per 2 MiB of guest memory (GUEST_PDC_MIN to GUEST_PDC_MAX entries: 12 to
 * 768 KiB per address space), so that a guest touching all its memory at
 * random finds its last-level tables without walking.
 */
#define GUEST_PDC_MIN 512u              /* entries of the cache, at least */
#define GUEST_PDC_MAX 32768u            /* and at most: 768 KiB, a 64 GiB guest's regions */
struct guest_pdc {
    uint64_t region;                      /* gva >> 21 */
    uint64_t gen;                         /* valid while == vm->gen */
    uintptr_t pt;                         /* the last-level table */
};

struct guest_ctab {
    uint16_t nr;                          /* slots in use, indices ascending */
    uint16_t cap;                         /* slots allocated (a multiple of 4) */
    uint16_t upper;                       /* 1: slots carry child references */
    uint16_t pad;
    /* then: uint16_t idx[cap]; uint64_t e[cap]; uintptr_t kid[cap] (upper only) */
};

struct guest_store_pool {                 /* full-table storage of one size */
    size_t size;                          /* 4096 (last level) or 8192 (upper) */
    uint64_t **spare;                     /* released tables */
    size_t nr_spare, cap_spare;
    char *cur;                            /* unused part of the last chunk */
    size_t left;
};

struct guest_vm {
    struct guest_vm_cfg cfg;
    struct guest_buddy *buddy;
    struct guest_store_pool pool[2];      /* [0] last-level tables, [1] upper tables */
    void **chunks;
    size_t nr_chunks;
    uint64_t compact_bytes;               /* storage of compact tables */
    uint64_t *hkey;                       /* guest frame -> table reference: open addressing */
    uintptr_t *hval;
    size_t hcap, hcount;
    uint64_t nr_tables;
    uint64_t gen;                         /* table generation (struct guest_pdc), from 1 */
    struct guest_as **as;                 /* live address spaces */
    size_t nr_as, cap_as;
};

struct guest_as {
    struct guest_vm *vm;
    unsigned levels;
    size_t slot;                          /* index in vm->as */
    uint64_t root_gfn;
    uintptr_t root;                       /* table reference of the top-level table */
    uint64_t nr_mapped;
    struct guest_pdc *pdc;                /* pdc_mask + 1 entries (guest_as_new fails without) */
    uint64_t pdc_mask;
    /* guest_pt_walk_tables()'s last complete walk (down to a last-level
     * table): its 2 MiB region and frames, valid while path_gen equals the
     * VM's table generation (a complete path changes only when a table on
     * it is released or handed out writable); a simulator speed-up */
    uint64_t path_region, path_gen;
    uint64_t path[GUEST_MAX_LEVELS];
};

static inline struct guest_ctab *ctab_of(uintptr_t t)
{
    return (struct guest_ctab *)(t - 1);
}
static inline uint16_t *ctab_idx(struct guest_ctab *c)
{
    return (uint16_t *)(void *)(c + 1);
}
static inline uint64_t *ctab_e(struct guest_ctab *c)
{
    return (uint64_t *)(void *)((char *)(c + 1) + (size_t)c->cap * sizeof(uint16_t));
}
static inline uintptr_t *ctab_kid(struct guest_ctab *c)
{
    return (uintptr_t *)(void *)(ctab_e(c) + c->cap);
}

/* Position of index i among a compact table's slots, or -1. */
static inline int ctab_find(struct guest_ctab *c, unsigned i)
{
    const uint16_t *ix = ctab_idx(c);
    for (unsigned k = 0; k < c->nr; k++)
        if (ix[k] >= i)
            return ix[k] == i ? (int)k : -1;
    return -1;
}

/*
 * Pointer to entry i of table t, or NULL when t has no slot for it (the
 * entry is 0).  For an upper table *kid gets the child reference (0 if
 * none); kid may be NULL for a last-level table.
 */
static inline uint64_t *tab_ep(uintptr_t t, unsigned i, bool upper, uintptr_t *kid)
{
    if (!(t & 1)) {
        uint64_t *f = (uint64_t *)t;
        if (upper)
            *kid = ((uintptr_t *)(void *)(f + GUEST_PT_ENTRIES))[i];
        return &f[i];
    }
    struct guest_ctab *c = ctab_of(t);
    int k = ctab_find(c, i);
    if (k < 0) {
        if (upper)
            *kid = 0;
        return NULL;
    }
    if (upper)
        *kid = ctab_kid(c)[k];
    return &ctab_e(c)[k];
}

/* Entry i of table t (0 when absent), child reference in *kid as above. */
static inline uint64_t tab_get(uintptr_t t, unsigned i, bool upper, uintptr_t *kid)
{
    const uint64_t *ep = tab_ep(t, i, upper, kid);
    return ep ? *ep : 0;
}

/* Slots to visit in index order: 512 for a full table. */
static inline unsigned tab_nr_slots(uintptr_t t)
{
    return (t & 1) ? ctab_of(t)->nr : GUEST_PT_ENTRIES;
}

/* The k-th slot (k < tab_nr_slots): its index; entry in *e, child in *kid. */
static inline unsigned tab_slot_at(uintptr_t t, unsigned k, bool upper, uint64_t *e,
                                   uintptr_t *kid)
{
    if (!(t & 1)) {
        const uint64_t *f = (const uint64_t *)t;
        *e = f[k];
        if (upper)
            *kid = ((const uintptr_t *)(const void *)(f + GUEST_PT_ENTRIES))[k];
        return k;
    }
    struct guest_ctab *c = ctab_of(t);
    *e = ctab_e(c)[k];
    if (upper)
        *kid = ctab_kid(c)[k];
    return ctab_idx(c)[k];
}

/* ---- guest_pt_store.c ---- */

/* A new empty table (compact) in a guest frame from the buddy allocator:
 * 0, VM_ENOSPC or VM_ENOMEM. */
int store_table_new(struct guest_vm *vm, bool upper, uint64_t *gfn, uintptr_t *out);
/* Give back table t (frame gfn): its storage and its guest frame. */
void store_table_release(struct guest_vm *vm, uint64_t gfn, uintptr_t t, bool upper);
/*
 * Entry i of the table *tp (in frame gfn), creating its slot (entry 0,
 * child 0) if it has none; the table may move, and then *tp and the frame
 * map are updated.  *kidp gets the address of the slot's child reference
 * (upper tables; valid until the table grows again).  NULL: out of memory.
 */
uint64_t *store_slot(struct guest_vm *vm, uintptr_t *tp, uint64_t gfn, unsigned i, bool upper,
                     uintptr_t **kidp);
/* Free all table storage and the frame map (guest_vm_free). */
void store_free(struct guest_vm *vm);

#endif
