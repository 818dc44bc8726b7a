/*
 * cons_rig.c - the consolidation engine on fake ports for the Check
 * suites (cons_rig.h).
 */
#include "cons_rig.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_fp.h"

uint64_t rig_fp(void *arg, int layer, uint64_t s)
{
    (void)arg;
    return vm_fp_page(77, s, (uint64_t)layer);
}

static const uint64_t *picks;
static uint64_t pick(void *arg, uint64_t i)
{
    (void)arg;
    return picks[i];
}

static int su_put(void *arg, uint64_t lba, uint64_t n, const uint64_t *fps)
{
    return vm_fpstore_put(arg, lba, n, fps);
}

static int su_meta(void *arg, uint64_t lba, const void *bytes, uint32_t len)
{
    return vm_fpstore_put_packed(arg, lba, 1, NULL, 0, bytes, len);
}

uint64_t rig_peek_fail_lba = UINT64_MAX;

static int peek(void *arg, uint64_t lba, uint64_t n, uint64_t *fps)
{
    if (rig_peek_fail_lba >= lba && rig_peek_fail_lba - lba < n)
        return VM_EIO;
    return vm_fpstore_peek(arg, lba, n, fps);
}

void cons_rig_init(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                   const uint64_t *lower, uint64_t nr_lower, const struct vm_blkio *ios,
                   size_t nios, struct cons_method_cfg mc, uint64_t crash_at)
{
    struct cons_load *l = cons_load_new_trace(ios, nios, 1.0, false, 8);
    ck_assert_ptr_nonnull(l);
    cons_rig_init_load(r, method, g, ng, lower, nr_lower, l, mc, crash_at);
}

void cons_rig_init_load(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                        const uint64_t *lower, uint64_t nr_lower, struct cons_load *l,
                        struct cons_method_cfg mc, uint64_t crash_at)
{
    memset(r, 0, sizeof *r);
    fake_clock_init(&r->clk, 0);
    const struct cons_method *m = cons_method_find(method);
    ck_assert_msg(m, "method %s", method);
    struct cons_chain_cfg cc = { .nr_sectors = NR_SECTORS, .grain_shift = GS, .desc_lba = 0,
                                 .slot0_lba = 8, .nr_slots = 6, .mutation = m->mutation };
    cc.slot_blocks = cons_delta_max_blocks(NR_SECTORS, GS);
    if (cc.slot_blocks < NR_SECTORS)
        cc.slot_blocks = NR_SECTORS;
    r->dev = fake_blk_new(cc.slot0_lba + cc.slot_blocks * cc.nr_slots);
    r->ft = fake_timer_new(&r->clk);
    struct cons_chain *ch = cons_chain_new(&r->dev->base, &cc);
    ck_assert_ptr_nonnull(ch);
    struct cons_setup su = { .put = su_put, .put_meta = su_meta, .arg = r->dev->store };
    if (nr_lower) {
        picks = lower;
        ck_assert_int_eq(cons_chain_setup_delta(ch, &su, nr_lower, pick, rig_fp, NULL), 0);
    }
    picks = g;
    ck_assert_int_eq(cons_chain_setup_delta(ch, &su, ng, pick, rig_fp, NULL), 0);
    ck_assert_int_eq(cons_chain_setup_desc(ch, &su), 0);
    struct cons_engine_cfg ec = { .method = m, .mcfg = mc, .target = 0, .before_ns = 1000000,
                                  .after_ns = 1000000, .timeout_ns = 10000000000ull,
                                  .seed = 5, .crash = crash_at != 0, .crash_at_ns = crash_at,
                                  .restart_ns = 1000000 };
    struct cons_ports p = { .blk = &r->dev->base, .clock = &r->clk.base,
                            .timer = fake_timer_port(r->ft) };
    struct cons_peek pk = { .get = peek, .arg = r->dev->store };
    r->e = cons_engine_new(&ec, &p, &pk, ch, rig_fp, NULL, l);
    ck_assert_ptr_nonnull(r->e);
}

void rig_fini(struct rig *r)
{
    while (fake_blk_nr_queued(r->dev))
        fake_blk_run(r->dev);
    cons_engine_free(r->e);
    fake_timer_free(r->ft);
    fake_blk_free(r->dev);
}

struct port_blk_req *queued_req(struct rig *r, size_t i)
{
    return r->dev->q[r->dev->q_head + i].req;
}

/* The grain whose first block layer `top` keeps at lba (64 on none). */
uint64_t grain_at(struct rig *r, int top, uint64_t lba)
{
    uint64_t g = 0;
    while (g < NR_SECTORS / GB && cons_chain_map(r->e->ch, top, g * GB) != lba)
        g++;
    return g;
}

/* The grains of the queued copy request (a whole-grain read through the
 * delta, or a whole-grain write into the base), increasing; their number. */
uint32_t copy_grains(struct rig *r, struct port_blk_req *req, uint64_t *g)
{
    int top = req->op == PORT_BLK_READ ? 1 : 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < port_blk_req_ios(req); i++) {
        uint64_t lba = req->lbas ? req->lbas[i] : req->lba;
        uint32_t len = req->io_blocks ? req->io_blocks[i] : req->nr_blocks;
        ck_assert_uint_eq(len % GB, 0);
        for (uint32_t b = 0; b < len; b += GB)
            g[n++] = grain_at(r, top, lba + b);
    }
    return n;
}


void run_copy(struct rig *r, uint64_t g)
{
    size_t i = 0;
    uint64_t gg[16];
    while (i < fake_blk_nr_queued(r->dev) &&
           (queued_req(r, i)->op != PORT_BLK_READ || copy_grains(r, queued_req(r, i), gg) < 1 ||
            gg[0] != g))
        i++;
    ck_assert_msg(i < fake_blk_nr_queued(r->dev), "copy of %llu in flight", (unsigned long long)g);
    fake_blk_run_nth(r->dev, i);
    for (i = 0; i < fake_blk_nr_queued(r->dev); i++) {
        struct port_blk_req *q = queued_req(r, i);
        if (q->op == PORT_BLK_WRITE && q->nr_blocks % GB == 0 && grain_at(r, 0, q->lba) == g)
            break;
    }
    ck_assert_uint_lt(i, fake_blk_nr_queued(r->dev));
    fake_blk_run_nth(r->dev, i);
}

size_t queued_write_at(struct rig *r, uint64_t lba)
{
    for (size_t i = 0; i < fake_blk_nr_queued(r->dev); i++)
        if (queued_req(r, i)->op == PORT_BLK_WRITE && queued_req(r, i)->lba == lba)
            return i;
    return SIZE_MAX;
}

void start_job(struct rig *r, uint32_t writes)
{
    cons_engine_start(r->e);
    while (!r->e->job_running || r->e->inflight.n < writes)
        ck_assert(fake_timer_run_next(r->ft));
}

struct cons_method_cfg cons_rig_mcfg(void)
{
    return (struct cons_method_cfg){ .chunk_bytes = 64 << 10, .max_in_flight = 1,
                                     .stun_fixed_ns = 1000, .stun_threshold_ns = 12000000000ull,
                                     .max_iterations = 9, .force_sync = true };
}

void cons_rig_finish(struct rig *r, size_t (*choose)(void *arg, size_t options), void *arg)
{
    for (int guard = 0; !cons_engine_finished(r->e); guard++) {
        ck_assert_int_lt(guard, 1000000);
        if (!choose && fake_timer_run_until(r->ft, r->clk.now_ns))
            continue;
        size_t q = fake_blk_nr_queued(r->dev);
        size_t t = fake_timer_pending(r->ft) ? 1 : 0;
        ck_assert_msg(q + t > 0, "the engine waits for nothing");
        size_t c = choose ? choose(arg, q + t) : (q ? 0 : q);
        if (c < q)
            fake_blk_run_nth(r->dev, c);
        else
            fake_timer_run_next(r->ft);
    }
    cons_engine_result(r->e, &r->res);
}

void cons_rig_consolidated(struct rig *r)
{
    cons_rig_finish(r, NULL, NULL);
    ck_assert_int_eq(r->res.rc, 0);
    ck_assert(r->res.done);
    ck_assert_uint_eq(r->res.final_mismatch, 0);
}

int cons_rig_main(const char *name, const struct cons_rig_case *cases, size_t n,
                  double timeout_s, void (*fixture)(void))
{
    Suite *s = suite_create(name);
    for (size_t i = 0; i < n; i++) {
        TCase *t = tcase_create(cases[i].name);
        tcase_set_timeout(t, timeout_s);
        if (fixture)
            tcase_add_checked_fixture(t, fixture, NULL);
        tcase_add_test(t, cases[i].test);
        suite_add_tcase(s, t);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
