/*
 * prefault_rig.h - the test rig of the prefault suites: a fake backing
 * store (tests/fakes/fake_backing.h) of PREFAULT_RIG_FRAMES guest frames,
 * real guest page tables (models/guest/guest_pt.h) with one address
 * space, and one policy started by name.  The test plays the world: it
 * makes faults, reads answers (rig->out) and reports hits.  Every
 * function fails the running Check test on an unexpected result.
 */
#ifndef PREFAULT_RIG_H
#define PREFAULT_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakes/fake_backing.h"
#include "guest/guest_pt.h"
#include "prefault/prefault.h"

#define PREFAULT_RIG_FRAMES 8192

struct rig {
    struct fake_backing *fb;
    struct guest_vm *vm;
    struct guest_as *as;
    struct prefault_state *s;
    struct prefault_ws ws;        /* env.ws when rig_start_ws() gave one */
    uint64_t out[PREFAULT_MAX_PAGES];
};

/* Every frame resident, no slot; an empty address space. */
void rig_init(struct rig *r);
/* Start policy `name` with its defaults, then the overrides in cfg_fn
 * (NULL: none), with no recorded working set. */
void rig_start(struct rig *r, const char *name, void (*cfg_fn)(struct prefault_cfg *));
/* The same with the recorded working set frames[0 .. nr) (the caller's,
 * needed until the policy started). */
void rig_start_ws(struct rig *r, const char *name, void (*cfg_fn)(struct prefault_cfg *),
                  const uint64_t *frames, uint64_t nr);
void rig_fini(struct rig *r);
/* A fault on gfn without a GVA; the answer is in r->out. */
uint32_t rig_fault_gfn(struct rig *r, uint64_t gfn);
/* A fault on the frame gva maps to (it must be mapped), with the GVA. */
uint32_t rig_fault_gva(struct rig *r, uint64_t gva);
/* out[0 .. n) equals want[0 .. nwant), in order. */
void rig_expect(const struct rig *r, uint32_t n, const uint64_t *want, uint32_t nwant);
#define EXPECT(r, n, ...) do { const uint64_t w_[] = { __VA_ARGS__ }; \
        rig_expect(r, n, w_, sizeof w_ / sizeof w_[0]); } while (0)

/*
 * Play a world on a fresh rig: every frame starts absent (a resume);
 * each access of trace[0 .. n) to an absent frame faults, and the world
 * brings in the answer and everything bulk() gives; the first access to
 * a frame brought in ahead is reported with hit().  With `rec`, every
 * access is also recorded (a record pass).  `ws` NULL starts the policy
 * without a recorded working set.  Returns the faults; *st gets the
 * policy's final stats when st is not NULL.
 */
uint64_t rig_run_trace(const char *policy, void (*cfg_fn)(struct prefault_cfg *),
                       const struct prefault_ws *ws, const uint64_t *trace, size_t n,
                       struct prefault_recorder *rec, struct prefault_stats *st);

#endif
