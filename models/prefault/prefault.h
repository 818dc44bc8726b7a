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
 *
 * Record and replay (reap, halite): such a policy (PREFAULT_F_NEEDS_WS)
 * starts from a recorded working set, struct prefault_ws in the env: the
 * guest frames a record pass saw the guest touch, in first-touch order.
 * The world runs the record pass first (any policy, usually faultonly,
 * with a struct prefault_recorder fed every guest access), then the
 * replay pass on the same trace with the recorder's set.  A policy's
 * wish may be larger than one answer: after fault(), the world drains
 * bulk() (REAP's whole working set on the first fault).
 *
 * Content: a neighbour is brought in only when the backing store holds
 * content for it (a slot; in post-copy the world maps slot = frame for
 * the pages the source has).  A guest-physical window would otherwise
 * ask for frames the guest never touched, which have no copy anywhere;
 * Linux's readahead skips them too.  prefault_answer_add() filters them.
 *
 * Memory pressure: the backing port's room() says how many frames the
 * host can take without evicting a frame brought in ahead and not yet
 * used; every answer stays within it (prefault_answer_add() clips), so
 * that a prefetch never evicts an unused prefetch.  The test-only
 * policies of prefault_broken_test.c break that and the other rules on
 * purpose.
 */
#ifndef PREFAULT_H
#define PREFAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_param.h"
#include "guest/guest_pt.h"
#include "ports/port_backing.h"

/* Most frames one fault() or bulk() call may return (fault(): the faulting
 * one included).  Larger sets come in several bulk() calls. */
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
    uint32_t history;            /* Leap: swap-in positions remembered (Hsize) */
    uint32_t nsplit;             /* Leap: first trend window = history / nsplit */
    uint32_t block_pages;        /* Halite: frames per locality block */
};

/* One fault, as the hypervisor sees it. */
struct prefault_fault {
    uint64_t gfn;                /* the faulting guest frame (absent) */
    uint64_t gva;                /* the guest-virtual address that referenced it */
    bool gva_known;              /* false: no GVA (device access, no decode, or the
                                    walk's read of a table frame, which no guest-
                                    virtual page of the process maps) */
    const struct guest_as *as;   /* the faulting vCPU's address space (CR3), or NULL */
    const struct guest_pt_reader *tables;   /* the table frames the hypervisor may read
                                    now (in host memory); NULL: all.  A policy that
                                    translates neighbours reads no other: the pages
                                    below a table not in memory are skipped, as the
                                    handler would otherwise wait for that table */
};

/*
 * A recorded working set: guest frames (below the backing's nr_frames)
 * in the order the guest first touched them during a record pass; a
 * repeated frame counts at its first place only.  The world's; a policy
 * copies what it needs in start(), so the world may free it after start()
 * returns.  An empty set is valid (the policy then serves faults alone).
 */
struct prefault_ws {
    const uint64_t *frames;          /* nr frames, first touch first */
    uint64_t nr;
};

struct prefault_env {
    struct port_backing *backing;    /* the world's; must outlive the policy */
    const struct prefault_ws *ws;    /* recorded working set, or NULL; needed by
                                        policies with PREFAULT_F_NEEDS_WS */
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
    /* record and replay policies (0 for the others) */
    uint64_t ws_pages;           /* frames in the recorded working set */
    uint64_t ws_fetched;         /* of them, brought in ahead (counted in prefetched) */
    uint64_t ws_hits;            /* of those, used (hit()); never used = ws_fetched - ws_hits */
    uint64_t bulk_frames;        /* frames returned by bulk() (counted in prefetched) */
    uint64_t clipped;            /* frames a policy wanted and left out for want of
                                    room (port_backing_room()) */
    uint64_t no_content;         /* neighbours a policy wanted and left out because the
                                    backing store has no content for them (no slot:
                                    never touched, or a zero page) */
};

/* Answer flags (prefault_answer_flags()): how the world should treat the
 * frames of the last fault() or bulk() call. */
/* The frames of this call are stored together, in the order given, in the
 * policy's own compact copy (REAP's working-set file, Halite's locality
 * block): read them as one sequential I/O, not one per backing slot.
 * Consecutive flagged calls for one fault continue the same read. */
#define PREFAULT_ANS_CONTIGUOUS    0x1u
/* TEST ONLY (broken-present-nofetch): make out[0], the faulting frame,
 * present WITHOUT reading its content, as a buggy handler that maps a
 * page before filling it.  No real policy sets it; a world honours it so
 * that its "used before resident with the right content" check can be
 * shown to fail. */
#define PREFAULT_ANS_TEST_NO_FETCH 0x100u

/* Policy flags (struct prefault_policy.flags). */
#define PREFAULT_F_NEEDS_WS 0x1u     /* start() needs env->ws: run a record pass first */
#define PREFAULT_F_HIDDEN   0x2u     /* deliberately broken, test-only: not listed */

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
    uint32_t answer_flags;       /* PREFAULT_ANS_* of the last fault() / bulk() */
    uint64_t room;               /* port_backing_room() at prefault_answer_begin() */
};

struct prefault_policy {
    const char *name;
    const char *desc;                /* one line for `vmsim list` */
    unsigned flags;                  /* PREFAULT_F_* */
    const struct vm_param *params;   /* keys of struct prefault_cfg it reads */
    /* Allocate the policy's state for cfg (already defaulted and range-
     * checked by the table): 0, VM_EINVAL (cross-field, message in d) or
     * VM_ENOMEM.  *out is the caller's until destroy(). */
    int (*start)(const struct prefault_cfg *cfg, const struct prefault_env *env,
                 struct prefault_state **out, struct vm_diag *d);
    /* A fault on f->gfn (not resident).  Writes f->gfn first, then the
     * frames to bring in with it: each absent, none twice, into out (room
     * for PREFAULT_MAX_PAGES), no more in all than port_backing_room()
     * allows (the faulting frame always).  Returns how many (>= 1). */
    uint32_t (*fault)(struct prefault_state *s, const struct prefault_fault *f, uint64_t *out);
    /* Optional (NULL: never more).  After fault(), the rest of that
     * fault's set when it does not fit one answer: the world calls it
     * until it returns 0.  Each call writes up to PREFAULT_MAX_PAGES
     * absent frames into out, none of them in the fault's answer nor in an
     * earlier call for the same fault, no more than port_backing_room()
     * allows when it is called (the world brings in each call's frames
     * before the next call); they count in stats.prefetched and
     * stats.bulk_frames, and are reported through hit() like the
     * answer's.  The next fault() drops whatever was not drained. */
    uint32_t (*bulk)(struct prefault_state *s, uint64_t *out);
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
extern const struct prefault_policy prefault_reap_policy;          /* prefault_reap.c */
extern const struct prefault_policy prefault_halite_policy;        /* prefault_halite.c */
/* deliberately broken, PREFAULT_F_HIDDEN (prefault_broken_test.c) */
extern const struct prefault_policy prefault_broken_fetch_resident_policy;
extern const struct prefault_policy prefault_broken_huge_window_policy;
extern const struct prefault_policy prefault_broken_present_nofetch_policy;
const struct prefault_policy *prefault_policy_find(const char *name);
/* Apply a policy's defaults to cfg (fields it does not read are zeroed). */
int prefault_cfg_defaults(const struct prefault_policy *p, struct prefault_cfg *cfg,
                          struct vm_diag *d);
/* Start a policy with cfg: defaults must already be applied.  0, or
 * VM_EINVAL (no backing port of this version; a PREFAULT_F_NEEDS_WS
 * policy without env->ws; the policy's own checks) or VM_ENOMEM, with
 * the message in d; *out is NULL on error. */
int prefault_start(const struct prefault_policy *p, const struct prefault_cfg *cfg,
                   const struct prefault_env *env, struct prefault_state **out,
                   struct vm_diag *d);
static inline const struct prefault_stats *prefault_stats(const struct prefault_state *s)
{ return &s->st; }
/* The rest of the last fault's set (see bulk()); 0 when the policy has none. */
static inline uint32_t prefault_bulk(struct prefault_state *s, uint64_t *out)
{ return s->policy->bulk ? s->policy->bulk(s, out) : 0; }
/* PREFAULT_ANS_* of the last fault() or bulk() call. */
static inline uint32_t prefault_answer_flags(const struct prefault_state *s)
{ return s->answer_flags; }

/* ------------------------------- the record pass's recorder (prefault_recorder.c) */

/*
 * Collects a recorded working set during a record pass: the world calls
 * prefault_recorder_touch() on every guest access (or every fault, when
 * every page starts absent, as after a resume: then each first touch
 * faults, which is what REAP's monitor records), and hands
 * prefault_recorder_ws() to the replay pass's env.  Keeps a bit per guest
 * frame and 8 bytes per recorded frame.
 */
struct prefault_recorder;
/* A recorder for a guest of nr_frames frames: 0, or VM_ENOMEM (*out NULL). */
int prefault_recorder_new(uint64_t nr_frames, struct prefault_recorder **out);
/* The guest touched gfn: appended on its first touch only.  0, VM_ERANGE
 * (gfn >= nr_frames, not recorded) or VM_ENOMEM (not recorded). */
int prefault_recorder_touch(struct prefault_recorder *r, uint64_t gfn);
/* The set so far: *ws points into the recorder, valid until the next
 * touch or free. */
void prefault_recorder_ws(const struct prefault_recorder *r, struct prefault_ws *ws);
void prefault_recorder_free(struct prefault_recorder *r);

/* ------------------------------------- helpers for policies (prefault_common.c) */

/* Allocate a zeroed state of `size` bytes (>= sizeof struct prefault_state)
 * for policy p; NULL when out of memory. */
struct prefault_state *prefault_state_new(size_t size, const struct prefault_policy *p,
                                          const struct prefault_cfg *cfg,
                                          const struct prefault_env *env);
/* Begin an answer: out[0] = gfn, answer flags 0, the room read from the
 * backing port; returns 1 (the count so far). */
uint32_t prefault_answer_begin(struct prefault_state *s, uint64_t gfn, uint64_t *out);
/* Add gfn to the answer if it is a frame of the guest, absent, not
 * already in it, and has content (port_backing_slot_of() is not
 * PORT_BACKING_NONE; otherwise it is left out and counted in
 * stats.no_content: there is nothing to read, as Linux readahead skips a
 * pte_none entry or a free slot); counts it as prefetched.  Past
 * PREFAULT_MAX_PAGES a frame is left out; past the room, left out and
 * counted in stats.clipped.  Returns the new count.  The faulting frame
 * (prefault_answer_begin()) is never filtered. */
uint32_t prefault_answer_add(struct prefault_state *s, uint64_t gfn, uint64_t *out, uint32_t n);
/* For PREFAULT_F_NEEDS_WS policies: check env->ws (present, frames below
 * nr_frames) and copy its frames, first occurrences only, in order, into
 * a new array (*frames, *nr; the caller frees it; NULL when nr is 0).
 * 0, VM_EINVAL or VM_ENOMEM, with the message (naming `policy`) in d. */
int prefault_ws_copy(const char *policy, const struct prefault_env *env, uint64_t **frames,
                     uint64_t *nr, struct vm_diag *d);
/* Linux mm/swap_state.c __swapin_nr_pages(): the readahead window from the
 * previous and current offsets, the hits since, the cap and the previous
 * window (shrinks at most by half). */
uint32_t prefault_linux_ra_pages(uint64_t prev_offset, uint64_t offset, uint32_t hits,
                                 uint32_t max_pages, uint32_t prev_win);

#endif
