/*
 * guest_pt.h - x86-64 guest page tables, as the guest kernel builds them
 * and as a hypervisor walks them (Intel SDM vol. 3A, 4.5 "4-level paging
 * and 5-level paging").
 *
 * A guest VM (struct guest_vm) has guest-physical memory of nr_frames
 * 4 KiB frames, a buddy allocator over them (guest_buddy.h) and a paging
 * mode: 4 levels (PML4 -> PDPT -> PD -> PT, 48-bit addresses) or 5 (LA57:
 * PML5 first, 57-bit addresses).  Each address space (struct guest_as, a
 * process: its CR3) has its own tables.  Every table is a real 4 KiB page
 * of 512 eight-byte entries in the SDM's format, in a guest frame that the
 * buddy allocator gave it, allocated on demand the first time a mapping
 * needs it, as a guest kernel's page-fault path does.  Leaf entries map
 * 4 KiB pages, or 2 MiB pages with PS set in the PD entry (optional);
 * 1 GiB pages are not modelled.
 *
 * The tables' contents live in simulator memory in proportion to the
 * entries present: a table with up to 32 entries in use is stored
 * compactly (10 bytes per entry, 18 in an upper-level table, plus a
 * header), a denser one as its 4 KiB of entries (an upper-level table
 * also keeps a shadow pointer per entry to the table it names: 8 KiB),
 * plus a hash map from guest frame to table.  A dense address space costs
 * about 8 bytes per mapped 4 KiB page, a sparse one (one page in each of
 * many 1 GiB regions) about 100 bytes per region, not 12 KiB.
 *
 * Walks read entries exactly as the MMU or a hypervisor's software walker
 * (KVM's paging_tmpl.h walk_addr_generic) does, one entry per level; the
 * neighbour translations reuse one walk down to the last-level table for
 * every page that table maps.  Costs are counted in struct guest_walk_cost
 * (walks started, entries read) so that the simulator can charge them.
 *
 * Table frames as guest memory: every table is a guest frame, which a
 * host may have swapped out or not yet brought in (post-copy, resume).
 * guest_pt_walk_tables() names the frames a walk reads, top first, so
 * that the world can check each before the walk reads it (the vCPU's
 * hardware walk: an absent one is an EPT violation on that frame).  The
 * hypervisor's own walks and neighbour translations take a struct
 * guest_pt_reader (the _rd variants): a table frame it says is not
 * readable is not read, and what lies below it counts as not mapped
 * (the span that table covers is skipped, at no cost).
 *
 * Not modelled: protection keys, SMEP/SMAP, PAT/caching bits (kept as the
 * guest wrote them), 1 GiB pages, TLB and paging-structure-cache effects
 * (the paging-structure cache here and struct guest_leaf are speed-ups
 * that change nothing a walk would not).
 */
#ifndef GUEST_PT_H
#define GUEST_PT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"

/* Entry bits (SDM vol. 3A, tables 4-14 .. 4-20). */
#define GUEST_PTE_P    (1ull << 0)    /* present */
#define GUEST_PTE_RW   (1ull << 1)    /* writable */
#define GUEST_PTE_US   (1ull << 2)    /* user */
#define GUEST_PTE_PWT  (1ull << 3)
#define GUEST_PTE_PCD  (1ull << 4)
#define GUEST_PTE_A    (1ull << 5)    /* accessed: set by every walk that uses it */
#define GUEST_PTE_D    (1ull << 6)    /* dirty: leaf entries, set on write */
#define GUEST_PTE_PS   (1ull << 7)    /* page size: a 2 MiB page in a PD entry */
#define GUEST_PTE_G    (1ull << 8)
#define GUEST_PTE_XD   (1ull << 63)   /* execute disable */
#define GUEST_PTE_ADDR 0x000ffffffffff000ull   /* bits 51:12, MAXPHYADDR 52 */

#define GUEST_PAGE_SHIFT 12
#define GUEST_MAX_LEVELS 5            /* table frames a walk reads at most (LA57) */
#define GUEST_PT_ENTRIES 512
#define GUEST_HUGE_PAGES 512          /* 4 KiB pages in a 2 MiB page */

struct guest_vm;
struct guest_as;

struct guest_vm_cfg {
    uint64_t nr_frames;           /* guest-physical memory, 4 KiB frames (< 2^32) */
    unsigned levels;              /* 4, or 5 for LA57 */
    double aging;                 /* guest_buddy.h: 0 fresh .. 1 aged */
    uint64_t seed;                /* for the aging permutation */
    bool thp;                     /* guest_as_fault_in() maps 2 MiB pages where it can */
};

/* 0, VM_EINVAL (message in d: bad levels, size, aging) or VM_ENOMEM.
 * The VM is the caller's; guest_vm_free() frees it and every address space. */
int guest_vm_new(const struct guest_vm_cfg *cfg, struct guest_vm **out, struct vm_diag *d);
void guest_vm_free(struct guest_vm *vm);
unsigned guest_vm_levels(const struct guest_vm *vm);
uint64_t guest_vm_nr_frames(const struct guest_vm *vm);
/* The VM's allocator (owned by the VM): a caller may take frames for
 * other uses, as the guest kernel does. */
struct guest_buddy *guest_vm_buddy(struct guest_vm *vm);
/* Table pages in use across all address spaces. */
uint64_t guest_vm_nr_tables(const struct guest_vm *vm);
/* Simulator memory the tables take: storage chunks and the frame map. */
uint64_t guest_vm_table_bytes(const struct guest_vm *vm);
/*
 * The 512 entries of the table page in guest frame gfn, as guest memory
 * holds them, or NULL when gfn holds no table (or, for a compact table,
 * when there is no memory to make it full).  Writable, as guest memory is
 * to the guest kernel: a caller may set or clear bits (tests build holes
 * by hand).  The address field of an upper-level entry must not change:
 * walks follow the shadow pointer the model keeps next to it.  A table
 * stored compactly is made full first (a search over the tables the first
 * time: a test and debugging aid, not for hot paths); the pointer stays
 * valid until the table is freed.  Each call makes the paging-structure
 * cache and every struct guest_leaf forget every table (the model's
 * INVLPG): a caller that writes entries after an access has been made
 * must call it again before the next one, or that access may not see
 * the writes.
 */
uint64_t *guest_vm_table(struct guest_vm *vm, uint64_t gfn);

/*
 * A new address space: its top-level table is allocated now.  0,
 * VM_ENOSPC (no guest frame for it) or VM_ENOMEM.  Owned by the VM; free
 * it earlier with guest_as_free(), which gives back every frame it maps
 * and every table frame (a process exit).
 */
int guest_as_new(struct guest_vm *vm, struct guest_as **out);
void guest_as_free(struct guest_as *as);
/* Guest frame of the top-level table (CR3 >> 12). */
uint64_t guest_as_root(const struct guest_as *as);
uint64_t guest_as_nr_mapped(const struct guest_as *as);   /* 4 KiB pages mapped */

/*
 * Canonical check: bits 63..47 (4 levels) or 63..56 (5 levels) all equal.
 * guest_pt_check_gva() says why not in d: "address 0x... is not canonical
 * for 4-level paging (bits 63:47 must all equal bit 47)"; 0 or VM_EINVAL.
 */
static inline bool guest_pt_canonical(unsigned levels, uint64_t gva)
{
    unsigned top = levels == 5 ? 57 : 48;
    return (uint64_t)((int64_t)(gva << (64 - top)) >> (64 - top)) == gva;
}
int guest_pt_check_gva(unsigned levels, uint64_t gva, struct vm_diag *d);

/*
 * Map the 4 KiB page at gva to guest frame gfn with leaf flags (P is
 * added; RW, US, XD, A, D, G, PWT, PCD are kept), allocating missing
 * tables from the buddy allocator.  Tables above the leaf get P|RW|US|A,
 * as Linux's _PAGE_TABLE.  0; VM_EINVAL (non-canonical gva, gfn beyond
 * memory; reason in d); VM_EBUSY (already mapped, or inside a 2 MiB page);
 * VM_ENOSPC (no guest frame for a table); VM_ENOMEM.  On error no entry
 * maps gva; tables allocated on the way stay, empty, as in a guest kernel.
 */
int guest_pt_map(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                 struct vm_diag *d);
/* The same for a 2 MiB page: gva and gfn 2 MiB aligned (else VM_EINVAL);
 * VM_EBUSY when the PD entry is in use (a table or a page). */
int guest_pt_map_huge(struct guest_as *as, uint64_t gva, uint64_t gfn, uint64_t flags,
                      struct vm_diag *d);
/* Clear the leaf entry mapping gva (4 KiB or the whole 2 MiB page);
 * tables stay.  0 or VM_ENOENT. The frame is not freed. */
int guest_pt_unmap(struct guest_as *as, uint64_t gva);

/*
 * The guest touches gva: translate it, setting A on each entry used and D
 * on the leaf for a write, as the MMU does; if nothing maps it, the
 * guest's fault handler allocates a frame (a 2 MiB page when cfg.thp and
 * the 2 MiB region has no table yet and an order-9 block is free) and maps
 * it writable.  0 and *gfn; VM_EINVAL (non-canonical, reason in d);
 * VM_ENOSPC (guest out of memory); VM_ENOMEM.
 */
int guest_as_fault_in(struct guest_as *as, uint64_t gva, bool write, uint64_t *gfn,
                      struct vm_diag *d);

enum guest_walk_fault {
    GUEST_WALK_OK = 0,
    GUEST_WALK_NONCANONICAL,      /* level = top level */
    GUEST_WALK_NOT_PRESENT,       /* level = where P was clear */
    GUEST_WALK_UNREADABLE,        /* the reader refused the table at `level`
                                     (table_gfn names it) */
};

/* What a walk found. */
struct guest_walk {
    enum guest_walk_fault fault;
    unsigned level;               /* leaf level (1: 4 KiB PTE, 2: 2 MiB PDE) or fault level */
    uint64_t gpa;                 /* translated address (with gva's offset) when OK */
    uint64_t entry;               /* the leaf entry when OK */
    uint64_t table_gfn;           /* guest frame of the table holding `entry` (or the absent one) */
    unsigned index;               /* its index in that table */
};

struct guest_walk_cost {
    uint64_t walks;               /* walks started from the root */
    uint64_t entries;             /* table entries read */
};

/*
 * Which table frames the hypervisor may read now: readable(arg, gfn) is
 * false for a frame that is not in host memory with its content (swapped
 * out, not yet pulled or faulted in).  A walk given a reader asks it
 * before reading each table; a NULL reader (or readable NULL) reads every
 * table, as when all of guest memory is resident.
 */
struct guest_pt_reader {
    bool (*readable)(void *arg, uint64_t gfn);
    void *arg;
};

/*
 * The table frames the MMU's walk of gva reads, top first (gfns[0] is
 * the root, CR3's frame), down to the table holding the leaf entry, or to
 * the one holding the first absent entry; at most GUEST_MAX_LEVELS.
 * Returns how many (0 when gva is not canonical).  Reads only; no cost
 * counted (the world charges the vCPU's walk itself).
 */
unsigned guest_pt_walk_tables(const struct guest_as *as, uint64_t gva, uint64_t *gfns);

/*
 * The hypervisor's walk of gva through as's tables; reads only (sets no
 * A/D bits).  0; VM_EINVAL (non-canonical); VM_ENOENT (not mapped, w says
 * at which level).  cost may be NULL.  guest_pt_walk_rd() asks rd before
 * reading each table: VM_EAGAIN (w->fault GUEST_WALK_UNREADABLE) when it
 * refuses one; rd may be NULL.
 */
int guest_pt_walk(const struct guest_as *as, uint64_t gva, struct guest_walk *w,
                  struct guest_walk_cost *cost);
int guest_pt_walk_rd(const struct guest_as *as, const struct guest_pt_reader *rd, uint64_t gva,
                     struct guest_walk *w, struct guest_walk_cost *cost);
/* The same, answering only the guest frame: 0 and *gfn, or VM_EINVAL /
 * VM_ENOENT.  The hot path of replay. */
int guest_pt_translate(const struct guest_as *as, uint64_t gva, uint64_t *gfn);
/* The same without filling the model's PDE cache (guest_pt_int.h) from its
 * walk: a prefetch must not, since a walk that starts from a cached entry
 * sets no A bit above the leaf, and this walk set none. */
int guest_pt_peek(const struct guest_as *as, uint64_t gva, uint64_t *gfn);

/* Ask the CPU to fetch into its cache the paging-structure cache entry
 * of gva's 2 MiB region (guest_pt_int.h), without reading anything: a
 * simulator speed-up for replay loops, which prefetch a record's cache
 * entry, then (guest_pt_prefetch_leaf) its PTE, some records ahead so
 * that each step's loads hit. */
void guest_pt_prefetch_pdc(const struct guest_as *as, uint64_t gva);

/*
 * A reference to the last-level table of a 4 KiB mapping, taken some
 * records ahead of the access by a replay loop (a simulator speed-up): the
 * access then reads its PTE without walking the levels above, as a CPU
 * whose paging-structure cache (SDM vol. 3A, 4.10.3) names the table does.
 * pt is 0 when there is none; a reference counts only while the VM's
 * table generation is gen (a table moved, released or handed out
 * writable makes every reference stale).  Opaque to callers.
 */
struct guest_leaf {
    uintptr_t pt;
    uint64_t gen;
};
/*
 * Take *ref for gva and ask the CPU to fetch its PTE: from the paging-
 * structure cache (whose entry the caller has prefetched with
 * guest_pt_prefetch_pdc()), or on a miss from a walk of the levels above
 * (read only, sets no A bit).  A walk gives a reference only when every
 * entry above the leaf is present with its A bit set and none maps a
 * 2 MiB page, so that an access through it skips no state change the full
 * walk would make (a cache hit is taken as it is: the cache holds only
 * such tables).  Otherwise ref->pt = 0.  A reference serves gva's 2 MiB
 * region only.
 */
void guest_pt_prefetch_leaf(const struct guest_as *as, uint64_t gva, struct guest_leaf *ref);
/*
 * The frame gva maps to, read through *ref without side effects: 0 and
 * *gfn; VM_ENOENT when the PTE is not present; VM_EAGAIN when ref is 0
 * or stale (walk instead: guest_pt_peek()).
 */
int guest_pt_peek_leaf(const struct guest_as *as, uint64_t gva, const struct guest_leaf *ref,
                       uint64_t *gfn);
/*
 * The MMU's access to gva through *ref, as guest_as_fault_in() does when
 * its paging-structure cache holds the table: A on the PTE, D for a write;
 * 0 and *gfn.  VM_EAGAIN when ref is 0 or stale, VM_ENOENT when the PTE is
 * not present: then call guest_as_fault_in(), which walks and maps.
 */
int guest_as_access_leaf(struct guest_as *as, uint64_t gva, const struct guest_leaf *ref,
                         bool write, uint64_t *gfn);

/* The VM's table generation (struct guest_leaf): its address, valid for
 * the VM's life, for a replay loop's inline fast path below. */
const uint64_t *guest_vm_gen(const struct guest_vm *vm);
/*
 * Fast path of guest_pt_peek_leaf() and guest_as_access_leaf() for a
 * replay loop's inline code: the address of gva's PTE through *ref when
 * ref is current (gen: *guest_vm_gen()) and its table is held in full
 * form (bit 0 of pt clear, guest_pt_int.h), else NULL: then call those
 * functions, which handle every case.
 */
static inline uint64_t *guest_leaf_pte(const struct guest_leaf *ref, uint64_t gva, uint64_t gen)
{
    if (ref->gen != gen || !ref->pt || (ref->pt & 1))
        return NULL;
    return (uint64_t *)ref->pt + ((gva >> GUEST_PAGE_SHIFT) & 511);
}
/* The MMU's access through the 4 KiB PTE at pte (guest_as_fault_in()'s
 * leaf): A, and D for a write, each written only when clear; true and
 * *gfn, or false when the entry is not present. */
static inline bool guest_pte_access(uint64_t *pte, bool write, uint64_t *gfn)
{
    uint64_t e = *pte;
    if (!(e & GUEST_PTE_P))
        return false;
    if (!(e & GUEST_PTE_A))
        *pte = e |= GUEST_PTE_A;
    if (write && !(e & GUEST_PTE_D))
        *pte = e | GUEST_PTE_D;
    *gfn = (e & GUEST_PTE_ADDR) >> GUEST_PAGE_SHIFT;
    return true;
}

/* A translated neighbour: gva (page aligned) -> gfn. */
struct guest_xlat {
    uint64_t gva;
    uint64_t gfn;
};

/*
 * Translate the n pages gva_first, gva_first + 4 KiB, ... in that order,
 * writing the mapped ones to out (room for n) and skipping unmapped or
 * non-canonical ones; returns how many were written.  The range stops at
 * the top of the address space instead of wrapping.  One walk down to the
 * last-level table serves every page that table maps; an absent upper
 * entry skips the whole span it covers without reading further.
 */
uint32_t guest_pt_xlat_range(const struct guest_as *as, uint64_t gva_first, uint32_t n,
                             struct guest_xlat *out, struct guest_walk_cost *cost);
/* The same, reading only the tables rd allows (NULL: all): the pages
 * below a refused table are skipped as unmapped, without reading it. */
uint32_t guest_pt_xlat_range_rd(const struct guest_as *as, const struct guest_pt_reader *rd,
                                uint64_t gva_first, uint32_t n, struct guest_xlat *out,
                                struct guest_walk_cost *cost);
/*
 * Every present entry of the last-level table that maps gva (the 512
 * frames of its 2 MiB page if a huge page maps it), in gva order, into
 * out (room for GUEST_PT_ENTRIES).  Returns how many, 0 when no last-level
 * table covers gva, VM_EINVAL when gva is not canonical.
 */
int guest_pt_xlat_table(const struct guest_as *as, uint64_t gva, struct guest_xlat *out,
                        struct guest_walk_cost *cost);
/* The same, reading only the tables rd allows (NULL: all): 0 when one on
 * the way down, or the last-level table itself, is refused. */
int guest_pt_xlat_table_rd(const struct guest_as *as, const struct guest_pt_reader *rd,
                           uint64_t gva, struct guest_xlat *out, struct guest_walk_cost *cost);

/* Set the bit of every guest frame that holds a table (of any address
 * space) in bitmap (nr_frames bits, the caller's; other bits untouched). */
void guest_vm_table_map(const struct guest_vm *vm, uint64_t *bitmap);

/* Fragmentation of an address space's mappings, measured. */
struct guest_frag {
    uint64_t pages;               /* 4 KiB pages mapped (a 2 MiB page counts 512) */
    uint64_t runs;                /* maximal runs contiguous in gva and in gpa */
    double mean_run_pages;        /* pages / runs, 0 when nothing is mapped */
};
/* Walk every mapping in gva order.  Add several address spaces by calling
 * it on each with the same f after zeroing f once (mean is recomputed). */
void guest_pt_frag(const struct guest_as *as, struct guest_frag *f);

#endif
