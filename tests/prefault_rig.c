/*
 * prefault_rig.c - the test rig of the prefault suites (see prefault_rig.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "prefault_rig.h"

void rig_init(struct rig *r)
{
    memset(r, 0, sizeof *r);
    r->fb = fake_backing_new(PREFAULT_RIG_FRAMES, PREFAULT_RIG_FRAMES);
    ck_assert_ptr_nonnull(r->fb);
    struct guest_vm_cfg cfg = { .nr_frames = PREFAULT_RIG_FRAMES, .levels = 4, .seed = 1 };
    ck_assert_int_eq(guest_vm_new(&cfg, &r->vm, NULL), 0);
    ck_assert_int_eq(guest_as_new(r->vm, &r->as), 0);
}

static void start(struct rig *r, const char *name, void (*cfg_fn)(struct prefault_cfg *),
                  const struct prefault_ws *ws)
{
    const struct prefault_policy *p = prefault_policy_find(name);
    ck_assert_msg(p != NULL, "no policy '%s'", name);
    struct prefault_cfg cfg;
    ck_assert_int_eq(prefault_cfg_defaults(p, &cfg, NULL), 0);
    if (cfg_fn)
        cfg_fn(&cfg);
    struct prefault_env env = { .backing = &r->fb->base, .ws = ws };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(prefault_start(p, &cfg, &env, &r->s, &d) == 0, "%s: %s", name, d.msg);
}

void rig_start(struct rig *r, const char *name, void (*cfg_fn)(struct prefault_cfg *))
{
    start(r, name, cfg_fn, NULL);
}

void rig_start_ws(struct rig *r, const char *name, void (*cfg_fn)(struct prefault_cfg *),
                  const uint64_t *frames, uint64_t nr)
{
    r->ws.frames = frames;
    r->ws.nr = nr;
    start(r, name, cfg_fn, &r->ws);
}

void rig_fini(struct rig *r)
{
    if (r->s)
        r->s->policy->destroy(r->s);
    guest_vm_free(r->vm);
    fake_backing_free(r->fb);
}

uint32_t rig_fault_gfn(struct rig *r, uint64_t gfn)
{
    struct prefault_fault f = { .gfn = gfn };
    return r->s->policy->fault(r->s, &f, r->out);
}

uint32_t rig_fault_gva(struct rig *r, uint64_t gva)
{
    uint64_t gfn;
    ck_assert_int_eq(guest_pt_translate(r->as, gva, &gfn), 0);
    struct prefault_fault f = { .gfn = gfn, .gva = gva, .gva_known = true, .as = r->as };
    return r->s->policy->fault(r->s, &f, r->out);
}

void rig_expect(const struct rig *r, uint32_t n, const uint64_t *want, uint32_t nwant)
{
    ck_assert_uint_eq(n, nwant);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_msg(r->out[i] == want[i], "out[%u] = %llu, want %llu", i,
                      (unsigned long long)r->out[i], (unsigned long long)want[i]);
}

/* Bring in out[0 .. n); frames other than the faulting one came ahead. */
static void bring_in(struct rig *r, const uint64_t *out, uint32_t n, bool first_is_fault,
                     bool *ahead)
{
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_msg(!r->fb->resident[out[i]], "frame %llu fetched while resident",
                      (unsigned long long)out[i]);
        fake_backing_bring_in(r->fb, out[i]);
        ahead[out[i]] = !(first_is_fault && i == 0);
    }
}

uint64_t rig_run_trace(const char *policy, void (*cfg_fn)(struct prefault_cfg *),
                       const struct prefault_ws *ws, const uint64_t *trace, size_t n,
                       struct prefault_recorder *rec, struct prefault_stats *st)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, PREFAULT_RIG_FRAMES);
    if (ws)
        rig_start_ws(&r, policy, cfg_fn, ws->frames, ws->nr);
    else
        rig_start(&r, policy, cfg_fn);
    bool *ahead = calloc(PREFAULT_RIG_FRAMES, sizeof *ahead);
    ck_assert_ptr_nonnull(ahead);
    uint64_t faults = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t g = trace[i];
        if (rec)
            ck_assert_int_eq(prefault_recorder_touch(rec, g), 0);
        if (!r.fb->resident[g]) {
            faults++;
            bring_in(&r, r.out, rig_fault_gfn(&r, g), true, ahead);
            for (uint32_t m; (m = prefault_bulk(r.s, r.out)) > 0;)
                bring_in(&r, r.out, m, false, ahead);
        } else if (ahead[g]) {
            ahead[g] = false;
            r.s->policy->hit(r.s, g);
        }
    }
    if (st)
        *st = *prefault_stats(r.s);
    free(ahead);
    rig_fini(&r);
    return faults;
}
