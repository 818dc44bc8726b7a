/*
 * guest_pt_store.c - where the guest's page-table pages live in simulator
 * memory (see guest_pt_int.h for the two forms of a table).
 *
 * Full tables come from 2 MiB chunks (backed by host huge pages where the
 * host allows, so that random walks over a large guest do not also miss
 * the host's TLB), released ones are reused.  Compact tables are malloc'ed
 * at 4, 8, 16 and 32 slots and made full past that: a compact slot costs
 * 10 bytes (18 in an upper table) where a full table costs 4 or 8 KiB
 * whatever it holds.  A small hash map finds a table from its guest frame
 * (guest_vm_table(), releases, moves).
 *
 * Not done: a full table whose entries are cleared again is not made
 * compact (the model's guest never unmaps in bulk).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/guest_buddy.h"
#include "guest/guest_pt_int.h"

#define CHUNK_BYTES (2u << 20)            /* full-table storage chunk */
#define NO_KEY UINT64_MAX
#define CTAB_FIRST_CAP 4u

/* ---------------------------------------------------------- full tables */

static uint64_t *full_get(struct guest_vm *vm, bool upper)
{
    struct guest_store_pool *p = &vm->pool[upper];
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

static void full_put(struct guest_vm *vm, bool upper, uint64_t *t)
{
    struct guest_store_pool *p = &vm->pool[upper];
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

/* ------------------------------------------------------- compact tables */

static size_t ctab_bytes(unsigned cap, bool upper)
{
    return sizeof(struct guest_ctab) + cap * (sizeof(uint16_t) + sizeof(uint64_t) +
                                              (upper ? sizeof(uintptr_t) : 0));
}

static struct guest_ctab *ctab_new(struct guest_vm *vm, unsigned cap, bool upper)
{
    struct guest_ctab *c = calloc(1, ctab_bytes(cap, upper));
    if (!c)
        return NULL;
    c->cap = (uint16_t)cap;
    c->upper = upper;
    vm->compact_bytes += ctab_bytes(cap, upper);
    return c;
}

static void ctab_free(struct guest_vm *vm, struct guest_ctab *c)
{
    vm->compact_bytes -= ctab_bytes(c->cap, c->upper);
    free(c);
}

/* ------------------------------------------------------------ frame map */

static size_t hslot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static int hgrow(struct guest_vm *vm)
{
    size_t cap = vm->hcap ? vm->hcap * 2 : 256;
    uint64_t *k = malloc(cap * sizeof *k);
    uintptr_t *v = malloc(cap * sizeof *v);
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

static int hput(struct guest_vm *vm, uint64_t key, uintptr_t t)
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

/* The table in frame gfn moved to t. */
static void hmove(struct guest_vm *vm, uint64_t gfn, uintptr_t t)
{
    size_t i = hfind(vm, gfn);
    assert(i != SIZE_MAX && "a table that moves is in the map");
    vm->hval[i] = t;
    vm->gen++;                            /* paging-structure caches forget it */
}

/* --------------------------------------------------------------- tables */

int store_table_new(struct guest_vm *vm, bool upper, uint64_t *gfn, uintptr_t *out)
{
    uint64_t f;
    int rc = guest_buddy_alloc(vm->buddy, 0, &f);
    if (rc)
        return rc;
    struct guest_ctab *c = ctab_new(vm, CTAB_FIRST_CAP, upper);
    if (!c || hput(vm, f, (uintptr_t)c | 1) != 0) {
        if (c)
            ctab_free(vm, c);
        guest_buddy_free(vm->buddy, f, 0);
        return VM_ENOMEM;
    }
    vm->nr_tables++;
    *gfn = f;
    *out = (uintptr_t)c | 1;
    return 0;
}

void store_table_release(struct guest_vm *vm, uint64_t gfn, uintptr_t t, bool upper)
{
    size_t i = hfind(vm, gfn);
    assert(i != SIZE_MAX && vm->hval[i] == t && "a released table is in the map");
    hdel(vm, i);
    vm->gen++;
    if (t & 1)
        ctab_free(vm, ctab_of(t));
    else
        full_put(vm, upper, (uint64_t *)t);
    guest_buddy_free(vm->buddy, gfn, 0);
    vm->nr_tables--;
}

/* The full form of compact table c (c is freed), or 0 out of memory. */
static uintptr_t make_full(struct guest_vm *vm, struct guest_ctab *c)
{
    bool upper = c->upper;
    uint64_t *f = full_get(vm, upper);
    if (!f)
        return 0;
    uintptr_t *kids = (uintptr_t *)(void *)(f + GUEST_PT_ENTRIES);
    for (unsigned k = 0; k < c->nr; k++) {
        unsigned i = ctab_idx(c)[k];
        f[i] = ctab_e(c)[k];
        if (upper)
            kids[i] = ctab_kid(c)[k];
    }
    ctab_free(vm, c);
    return (uintptr_t)f;
}

/* c with room for twice as many slots (moved), or NULL out of memory. */
static struct guest_ctab *ctab_grow(struct guest_vm *vm, struct guest_ctab *c)
{
    struct guest_ctab *n = ctab_new(vm, c->cap * 2u, c->upper);
    if (!n)
        return NULL;
    n->nr = c->nr;
    memcpy(ctab_idx(n), ctab_idx(c), c->nr * sizeof(uint16_t));
    memcpy(ctab_e(n), ctab_e(c), c->nr * sizeof(uint64_t));
    if (c->upper)
        memcpy(ctab_kid(n), ctab_kid(c), c->nr * sizeof(uintptr_t));
    ctab_free(vm, c);
    return n;
}

uint64_t *store_slot(struct guest_vm *vm, uintptr_t *tp, uint64_t gfn, unsigned i, bool upper,
                     uintptr_t **kidp)
{
    uintptr_t t = *tp;
    if (t & 1) {
        struct guest_ctab *c = ctab_of(t);
        int k = ctab_find(c, i);
        if (k >= 0) {
            if (upper)
                *kidp = &ctab_kid(c)[k];
            return &ctab_e(c)[k];
        }
        if (c->nr == c->cap) {
            if (c->cap >= GUEST_CTAB_MAX) {
                t = make_full(vm, c);
            } else {
                struct guest_ctab *n = ctab_grow(vm, c);
                t = n ? (uintptr_t)n | 1 : 0;
            }
            if (!t)
                return NULL;
            *tp = t;
            hmove(vm, gfn, t);
        }
    }
    if (!(t & 1)) {
        uint64_t *f = (uint64_t *)t;
        if (upper)
            *kidp = &((uintptr_t *)(void *)(f + GUEST_PT_ENTRIES))[i];
        return &f[i];
    }
    /* Insert slot i in index order. */
    struct guest_ctab *c = ctab_of(t);
    uint16_t *ix = ctab_idx(c);
    uint64_t *e = ctab_e(c);
    unsigned k = 0;
    while (k < c->nr && ix[k] < i)
        k++;
    unsigned tail = c->nr - k;
    memmove(&ix[k + 1], &ix[k], tail * sizeof *ix);
    memmove(&e[k + 1], &e[k], tail * sizeof *e);
    ix[k] = (uint16_t)i;
    e[k] = 0;
    if (upper) {
        uintptr_t *kid = ctab_kid(c);
        memmove(&kid[k + 1], &kid[k], tail * sizeof *kid);
        kid[k] = 0;
        *kidp = &kid[k];
    }
    c->nr++;
    return &e[k];
}

void store_free(struct guest_vm *vm)
{
    for (size_t i = 0; i < vm->hcap; i++)
        if (vm->hkey[i] != NO_KEY && (vm->hval[i] & 1))
            ctab_free(vm, ctab_of(vm->hval[i]));
    free(vm->hkey);
    free(vm->hval);
    for (size_t i = 0; i < vm->nr_chunks; i++)
        free(vm->chunks[i]);
    free(vm->chunks);
    free(vm->pool[0].spare);
    free(vm->pool[1].spare);
}

/* ------------------------------------------------------------ the API */

uint64_t guest_vm_nr_tables(const struct guest_vm *vm) { return vm->nr_tables; }

void guest_vm_table_map(const struct guest_vm *vm, uint64_t *bitmap)
{
    for (size_t i = 0; i < vm->hcap; i++)
        if (vm->hkey[i] != NO_KEY)
            bitmap[vm->hkey[i] >> 6] |= 1ull << (vm->hkey[i] & 63);
}

uint64_t guest_vm_table_bytes(const struct guest_vm *vm)
{
    return (uint64_t)vm->nr_chunks * CHUNK_BYTES + vm->compact_bytes +
           (uint64_t)vm->hcap * (sizeof *vm->hkey + sizeof *vm->hval);
}

/* Replace child reference old by new below upper table t at level lvl. */
static bool repoint(uintptr_t t, unsigned lvl, uintptr_t old, uintptr_t new)
{
    for (unsigned k = 0, n = tab_nr_slots(t); k < n; k++) {
        uint64_t e;
        uintptr_t kid;
        unsigned i = tab_slot_at(t, k, true, &e, &kid);
        if (!kid)
            continue;
        if (kid == old) {
            uintptr_t *slot;
            if (t & 1)
                slot = &ctab_kid(ctab_of(t))[k];
            else
                slot = &((uintptr_t *)(void *)((uint64_t *)t + GUEST_PT_ENTRIES))[i];
            *slot = new;
            return true;
        }
        if (lvl > 2 && repoint(kid, lvl - 1, old, new))
            return true;
    }
    return false;
}

uint64_t *guest_vm_table(struct guest_vm *vm, uint64_t gfn)
{
    size_t i = hfind(vm, gfn);
    if (i == SIZE_MAX)
        return NULL;
    uintptr_t t = vm->hval[i];
    vm->gen++;                            /* the caller may change entries */
    if (t & 1) {
        /* Hand out 512 entries: make it full, and point whoever names it
         * (a root, or a child slot somewhere) at the new storage. */
        uintptr_t f = make_full(vm, ctab_of(t));
        if (!f)
            return NULL;
        vm->hval[i] = f;
        bool found = false;
        for (size_t a = 0; a < vm->nr_as && !found; a++) {
            struct guest_as *as = vm->as[a];
            if (as->root == t) {
                as->root = f;
                found = true;
            } else {
                found = repoint(as->root, as->levels, t, f);
            }
        }
        assert(found && "every table is named by a root or a child slot");
        t = f;
    }
    return (uint64_t *)t;
}
