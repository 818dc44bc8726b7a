/*
 * prefault.h - prefault policies: on a fault for a guest frame that is not
 * in host memory, which other frames to bring in with it.
 *
 * The mechanism is US9086981 / US9454489 ("exporting guest spatial
 * locality to hypervisors"): take the faulting guest-virtual address, its
 * guest-virtual neighbours, translate them through the guest's page
 * tables and bring in the absent ones with the faulting page.  The
 * baselines are what Linux and the papers do (fault-only demand paging,
 * guest-physical windows, swap cluster readahead, VMA readahead, Leap).
 * Each policy file names its source.
 *
 * A policy sees the world through struct prefault_env: the backing port
 * (residency, swap slots; models/ports/port_backing.h) and, per fault, the
 * faulting vCPU's address space (models/guest/guest_pt.h), which the
 * hypervisor reads as guest memory.  It keeps its own fault history; the
 * caller reports, through hit(), the first use of a page the policy
 * brought in ahead (Linux counts the same readahead hits when a fault
 * finds a readahead page in the swap cache).
 *
 * Models never charge time: a policy counts its work (walks, entries
 * read, instruction decodes) in struct prefault_stats and sim/ charges it.
 */
#ifndef PREFAULT_H
#define PREFAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_param.h"
#include "guest/guest_pt.h"
#include "ports/port_backing.h"

/* Most frames one fault may return (the faulting one included). */
#define PREFAULT_MAX_PAGES 1024
/* Linux SWAP_RA_ORDER_CEILING on 64-bit: VMA readahead caps at 2^5 pages. */
#define PREFAULT_VMA_ORDER_CEILING 5

enum prefault_space {            /* which order "neighbour" is taken in */
    PREFAULT_SPACE_SLOT = 0,     /* backing-store slots (swap offsets) */
    PREFAULT_SPACE_GPA = 1,      /* guest-physical frames (the host VMA of guest RAM) */
    PREFAULT_SPACE_GVA = 2,      /* guest-virtual pages, through the guest's tables */
};

enum prefault_shape {            /* the patent's windows */
    PREFAULT_SHAPE_SYM = 0,      /* +-k pages */
    PREFAULT_SHAPE_FWD = 1,      /* the k pages after the fault */
    PREFAULT_SHAPE_TABLE = 2,    /* every present entry of the same last-level table */
};

enum prefault_gva_source {       /* how the hypervisor learns the faulting GVA */
    PREFAULT_GVA_HW = 0,         /* reported by hardware at fault time (9086981 claim 1(i)) */
    PREFAULT_GVA_DECODE = 1,     /* by decoding the faulting instruction (claim 1(ii)) */
};

/* Every policy's parameters; each policy's vm_param table names the keys
 * it reads (vmsim list shows them with their defaults). */
struct prefault_cfg {
    uint32_t k;                  /* window: pages each side (sym) or ahead (fwd) */
    uint32_t page_cluster;       /* log2 of the cluster / of the most VMA readahead */
    bool adaptive;               /* cluster: size the window as swapin_nr_pages() */
    int space;                   /* index in the policy's "space" choices */
    int shape;                   /* enum prefault_shape */
    int gva_source;              /* enum prefault_gva_source */
    uint32_t win_min, win_max;   /* adaptive windows, pages */
    uint32_t history;            /* Leap: faults remembered (Hsize) */
    uint32_t nsplit;             /* Leap: first trend window = history / nsplit */
};

/* One fault, as the hypervisor sees it. */
struct prefault_fault {
    uint64_t gfn;                /* the faulting guest frame (absent) */
    uint64_t gva;                /* the guest-virtual address that referenced it */
    bool gva_known;              /* false: no GVA (device access, no decode) */
    const struct guest_as *as;   /* the faulting vCPU's address space (CR3), or NULL */
};

struct prefault_env {
    struct port_backing *backing;    /* the world's; must outlive the policy */
};

struct prefault_stats {
    uint64_t faults;             /* fault() calls */
    uint64_t prefetched;         /* frames returned besides the faulting ones */
    uint64_t hits;               /* hit() calls: prefetched frames used */
    uint64_t walks;              /* guest page-table walks started */
    uint64_t entries;            /* guest page-table entries read */
    uint64_t decodes;            /* faulting instructions decoded */
    uint64_t no_gva;             /* faults without a GVA, served fault-only */
    uint64_t grows, shrinks;     /* adaptive window changes */
    uint32_t window;             /* current window (pages), 0 for fixed ones */
};

/* A running policy; each implementation embeds it first. */
struct prefault_state {
    const struct prefault_policy *policy;
    struct prefault_cfg cfg;
    struct prefault_env env;
    struct prefault_stats st;
    /* duplicate filter for one fault's answer (open addressing, epoch-tagged) */
    uint64_t seen_key[2 * PREFAULT_MAX_PAGES];
    uint32_t seen_epoch[2 * PREFAULT_MAX_PAGES];
    uint32_t epoch;
};

struct prefault_policy {
    const char *name;
    const char *desc;                /* one line for `vmsim list` */
    const struct vm_param *params;   /* keys of struct prefault_cfg it reads */
    /* Allocate the policy's state for cfg (already defaulted and range-
     * checked by the table): 0, VM_EINVAL (cross-field, message in d) or
     * VM_ENOMEM.  *out is the caller's until destroy(). */
    int (*start)(const struct prefault_cfg *cfg, const struct prefault_env *env,
                 struct prefault_state **out, struct vm_diag *d);
    /* A fault on f->gfn (not resident).  Writes f->gfn first, then the
     * frames to bring in with it: each absent, none twice, into out (room
     * for PREFAULT_MAX_PAGES).  Returns how many (>= 1). */
    uint32_t (*fault)(struct prefault_state *s, const struct prefault_fault *f, uint64_t *out);
    /* The guest used, for the first time, a frame this policy brought in ahead. */
    void (*hit)(struct prefault_state *s, uint64_t gfn);
    void (*destroy)(struct prefault_state *s);
};

/* ------------------------------------------------- registry (prefault_registry.c) */

extern const struct prefault_policy *const prefault_policies[];  /* NULL-terminated */
extern const struct prefault_policy prefault_faultonly_policy;     /* prefault_faultonly.c */
extern const struct prefault_policy prefault_gpa_policy;           /* prefault_gpa.c */
extern const struct prefault_policy prefault_cluster_policy;       /* prefault_cluster.c */
extern const struct prefault_policy prefault_vma_policy;           /* prefault_vma.c */
extern const struct prefault_policy prefault_leap_policy;          /* prefault_leap.c */
extern const struct prefault_policy prefault_gva_policy;           /* prefault_gva.c */
extern const struct prefault_policy prefault_gva_adaptive_policy;  /* prefault_gva.c */
const struct prefault_policy *prefault_policy_find(const char *name);
/* Apply a policy's defaults to cfg (fields it does not read are zeroed). */
int prefault_cfg_defaults(const struct prefault_policy *p, struct prefault_cfg *cfg,
                          struct vm_diag *d);
/* Start a policy with cfg: defaults must already be applied. */
int prefault_start(const struct prefault_policy *p, const struct prefault_cfg *cfg,
                   const struct prefault_env *env, struct prefault_state **out,
                   struct vm_diag *d);
static inline const struct prefault_stats *prefault_stats(const struct prefault_state *s)
{ return &s->st; }

/* ------------------------------------- helpers for policies (prefault_common.c) */

/* Allocate a zeroed state of `size` bytes (>= sizeof struct prefault_state)
 * for policy p; NULL when out of memory. */
struct prefault_state *prefault_state_new(size_t size, const struct prefault_policy *p,
                                          const struct prefault_cfg *cfg,
                                          const struct prefault_env *env);
/* Begin an answer: out[0] = gfn; returns 1 (the count so far). */
uint32_t prefault_answer_begin(struct prefault_state *s, uint64_t gfn, uint64_t *out);
/* Add gfn to the answer if it is a frame of the guest, absent, and not
 * already in it; counts it as prefetched.  Returns the new count. */
uint32_t prefault_answer_add(struct prefault_state *s, uint64_t gfn, uint64_t *out, uint32_t n);
/* Linux mm/swap_state.c __swapin_nr_pages(): the readahead window from the
 * previous and current offsets, the hits since, the cap and the previous
 * window (shrinks at most by half). */
uint32_t prefault_linux_ra_pages(uint64_t prev_offset, uint64_t offset, uint32_t hits,
                                 uint32_t max_pages, uint32_t prev_win);

#endif
