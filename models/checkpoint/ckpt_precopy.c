/*
 * ckpt_precopy.c - iterative pre-copy to a file (baseline), as QEMU's
 * migrate-to-file does it (migration/migration.c and ram.c): the VM keeps
 * running while rounds of pages are appended to a STREAM file (QEMU's
 * legacy stream, one writer); round 1 is every page, each later round the
 * pages the guest dirtied during the previous one (KVM's dirty log,
 * collected at each bitmap sync, migration_bitmap_sync).
 *
 * Start and stop (CKPT_F_LIVE_START): the VM is not stopped at the start.
 * QEMU arms dirty logging in the migration thread under the BQL while the
 * vCPUs run (ram_init_bitmaps -> memory_global_dirty_log_start), so the
 * world charges arming (trace_arm per page) to the saver, not as a stun;
 * device state is saved in the final stop (migration_completion_precopy
 * stops the VM, then qemu_savevm_state_complete_precopy writes the last
 * RAM pass and the devices), where the world charges device_state.
 *
 * When to stop (QEMU's migration_iteration_run): when the next round's
 * pages would take no longer than max_downtime (downtime-limit, 300 ms by
 * default) to write at the write bandwidth measured so far (bytes
 * acknowledged / time since start), the policy asks the world to stop the
 * VM (CKPT_STEP_STUN, once) and writes the final round with the VM
 * stopped.  The image is the memory at that stop
 * (CKPT_F_INSTANT_AT_STUN); the map gives each page's latest copy.
 *
 * The forced stop is vmsim's rule, not QEMU's.  A guest that dirties
 * memory faster than the disk drains never fits the downtime, and QEMU
 * iterates forever, until a person or a management layer intervenes
 * (libvirt's `migrate --timeout-suspend` pauses the guest so the
 * migration completes; nova's live_migration_timeout_action=force_complete
 * does the same).  vmsim's rule, a parameter: once the dirty set has gone
 * stall_rounds (5) rounds without reaching a new minimum, the final stop
 * is forced (stats.forced_stop).  With auto-converge a round counts only
 * when a throttle period ended during it and the throttle did not rise, so
 * the rule waits stall_rounds periods (> 1 s each) for a throttle that
 * rises at most every second period.  No round count caps anything else.
 *
 * Bandwidth: QEMU limits a migration to max-bandwidth, 128 MiB/s by
 * default (MAX_THROTTLE, migration/options.c), in windows of 100 ms
 * (migration_rate_limit, migration.c: once a window's quota is sent, the
 * migration thread sleeps to the window's end), and lifts the limit in
 * the final stop (migration_completion_precopy: migration_rate_set(
 * RATE_LIMIT_DISABLED)).  libvirt lifts it for its saves (a domain's
 * migration bandwidth defaults to QEMU_DOMAIN_MIG_BANDWIDTH_MAX,
 * qemu_domain.h), so vmsim's default, max_bandwidth 0, is no limit; a
 * limit is applied the same way (the wait is stats.rate_wait_ns, which
 * the world sleeps).
 *
 * auto_converge (QEMU's auto-converge capability, defaults from
 * migration/options.c), evaluated as migration_bitmap_sync does: at a
 * sync, only once more than 1 s has passed since the period began
 * (end_time > time_last_bitmap_sync + 1000), the bytes dirtied during the
 * period (every sync's new dirty pages since) are compared with the bytes
 * written during it; exceeding throttle_threshold (50) % of them for the
 * second time (dirty_rate_high_cnt >= 2) throttles the guest's vCPUs:
 * first to throttle_initial (20) %, then throttle_increment (10) more each
 * time, at most throttle_max (99) % (migration_trigger_throttle,
 * mig_throttle_guest_down); then a new period starts.  A sync less than
 * 1 s into a period only adds to its dirty count.  Since QEMU 9.2 a timer
 * also forces a sync every 5 s when none happened in the last 5 s and
 * round 1 is over (cpu_throttle_dirty_sync_timer_tick,
 * CPU_THROTTLE_DIRTY_SYNC_TIMESLICE_MS, migration/cpu-throttle.c; armed by
 * migration_thread whenever auto-converge is on), so a long round still
 * gets its throttle judged: the pages it adds join the round (those the
 * round has passed wait for the next one).  The world applies
 * stats.throttle_pct to the vCPUs, so the throttle shows in the guest's
 * slowdown.
 *
 * Dirty logging is hardware-assisted (Intel PML, KVM's default where the
 * CPU has it): guest writes set dirty bits without exits, so the guest
 * pays only the stops; write-protection logging would add one exit per
 * page per round.
 * Zero pages (zero_pages): as QEMU's save_zero_page, a zero page is not
 * appended to the stream; the zero map records it.  A page's latest save
 * wins: a page found zero in one round and non-zero in a later one leaves
 * the zero map and gets its stream copy, and the other way round its copy
 * is dropped from the map (each counts in pages_rewritten).
 * One writer: QEMU's multifd needs mapped-ram to write a file
 * (transport_supports_multi_channels, migration.c), and a stream is not
 * mapped-ram, so pre-copy has no channels.
 * Not modelled: XBZRLE, multifd, compression of the stream, the 8-byte
 * page headers of the stream (the map stands for them), the cost of a
 * dirty-log sync.  QEMU syncs when its estimate of the pages left drops
 * below what fits the downtime (migration_iteration_run ->
 * qemu_savevm_state_pending_exact), usually a little before a round's
 * last page is sent; here a round ends when its last write completes.
 * A stream longer than the file fails with VM_ENOSPC.
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

/* QEMU: a throttle period lasts more than 1 s (migration_bitmap_sync) */
#define PERIOD_NS (1000 * VM_NS_PER_MS)
/* QEMU >= 9.2: auto-converge's periodic sync (CPU_THROTTLE_DIRTY_SYNC_TIMESLICE_MS) */
#define SYNC_TICK_NS (5000 * VM_NS_PER_MS)
/* QEMU: the rate limit's window (BUFFER_DELAY, migration.h) */
#define RATE_WINDOW_NS (100 * VM_NS_PER_MS)

enum precopy_phase {
    PRECOPY_LIVE,                 /* a round while the VM runs */
    PRECOPY_STUNNED,              /* STUN returned; next step collects the last writes */
    PRECOPY_FINAL,                /* the final round, VM stopped */
};

struct precopy {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;       /* STREAM: page_lba is the live map */
    uint64_t nr_pages;
    uint64_t *set;                /* pages of the current round not yet submitted */
    uint64_t *pages;              /* scratch: pages of one request */
    uint64_t scan;                /* every set page below is submitted */
    uint64_t start_ns;
    enum precopy_phase phase;
    uint64_t best_set;            /* smallest dirty set seen after round 1 */
    uint32_t stalled;             /* rounds since best_set last fell */
    uint32_t dirty_high;          /* QEMU's dirty_rate_high_cnt */
    uint64_t checks_at_round;     /* st.throttle_checks when the round began */
    /* the throttle's period (QEMU's RAMState) */
    uint64_t period_ns0;          /* time_last_bitmap_sync */
    uint64_t period_bytes0;       /* bytes_xfer_prev: bytes_acked when it began */
    uint64_t period_dirty;        /* num_dirty_pages_period */
    bool throttle_rose;           /* since the last round ended */
    /* auto-converge's periodic sync (QEMU's throttle_dirty_sync_timer) */
    uint64_t next_tick_ns;
    uint64_t syncs_at_tick;       /* throttle_dirty_sync_count_prev */
    /* max_bandwidth: the current window */
    uint64_t win_ns0;
    uint64_t win_bytes;
};

static struct precopy *pc(struct ckpt_save *s) { return (struct precopy *)s; }

static void precopy_destroy(struct ckpt_save *s)
{
    struct precopy *p = pc(s);
    if (!p)
        return;
    ckpt_writer_fini(&p->w);
    ckpt_image_free(p->img);
    vm_bitmap_free(p->set);
    free(p->pages);
    free(p);
}

static int precopy_check(const struct ckpt_cfg *cfg, struct vm_diag *d)
{
    if (cfg->auto_converge && (cfg->throttle_max > 99 || cfg->throttle_initial == 0 ||
                               cfg->throttle_initial > cfg->throttle_max))
        return vm_diag_set(d, VM_EINVAL, "precopy: expected 1 <= throttle_initial <= "
                           "throttle_max <= 99");
    if (!(cfg->max_bandwidth_bps >= 0))
        return vm_diag_set(d, VM_EINVAL, "precopy: 'max_bandwidth' must be >= 0");
    return 0;
}

static int precopy_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                         struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->io_pages == 0 || cfg->io_depth == 0 || cfg->stall_rounds == 0)
        return vm_diag_set(d, VM_EINVAL,
                           "precopy: 'io_pages', 'io_depth' and 'stall_rounds' must be >= 1");
    int rc = precopy_check(cfg, d);
    if (rc < 0)
        return rc;
    if (!env->clock)
        return vm_diag_set(d, VM_EINVAL, "precopy: needs a clock to measure write bandwidth");
    uint64_t nr_pages = port_mem_nr_pages(env->mem);
    if (nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "precopy: guest memory has no pages");
    struct precopy *p = calloc(1, sizeof(*p));
    if (!p)
        return vm_diag_set(d, VM_ENOMEM, "precopy: out of memory");
    p->cfg = *cfg;
    p->env = *env;
    p->nr_pages = nr_pages;
    ckpt_writer_init(&p->w, env, &p->st, NULL, p);
    struct ckpt_header h = { .layout = CKPT_LAYOUT_STREAM, .nr_pages = nr_pages,
                             .data_lba = CKPT_DATA_LBA };
    p->set = vm_bitmap_new(nr_pages);
    p->pages = malloc(cfg->io_pages * sizeof(uint64_t));
    if (!p->set || !p->pages || ckpt_writer_add_pool(&p->w, 0, cfg->io_depth, cfg->io_pages) ||
        ckpt_image_new(&h, &p->img) || (cfg->zero_pages && ckpt_image_zero_map(p->img))) {
        precopy_destroy((struct ckpt_save *)p);
        return vm_diag_set(d, VM_ENOMEM, "precopy: out of memory");
    }
    /* start a clean dirty log: QEMU's first sync, in ram_init_bitmaps */
    port_mem_collect_dirty(env->mem, NULL);
    p->st.dirty_syncs = 1;
    vm_bitmap_set_range(p->set, 0, nr_pages);   /* round 1: every page */
    p->st.rounds = 1;
    p->phase = PRECOPY_LIVE;
    p->best_set = UINT64_MAX;
    p->start_ns = port_clock_now_ns(env->clock);
    p->period_ns0 = p->start_ns;
    p->next_tick_ns = p->start_ns + SYNC_TICK_NS;
    p->win_ns0 = p->start_ns;
    *out = (struct ckpt_save *)p;
    return 0;
}

/* Pre-copy does not trace: nothing faults. */
static int precopy_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    return 0;
}

/* Would n pages take no longer than max_downtime at the measured rate? */
static bool fits_downtime(const struct precopy *p, uint64_t n)
{
    if (n == 0)
        return true;
    if (p->w.bytes_acked == 0)
        return false;                           /* no rate yet */
    uint64_t elapsed = port_clock_now_ns(p->env.clock) - p->start_ns;
    double est_ns = (double)n * VM_PAGE_SIZE * (double)elapsed / (double)p->w.bytes_acked;
    return est_ns <= (double)p->cfg.max_downtime_ns;
}

/*
 * QEMU's migration_trigger_throttle() at the end of a period: n pages were
 * dirtied while `written` bytes went to the file.  Dirtying more than
 * throttle_threshold % of that, the second time, throttles the guest down
 * one step (mig_throttle_guest_down).  Returns true when the throttle rose.
 */
static bool trigger_throttle(struct precopy *p, uint64_t n, uint64_t written)
{
    double dirtied = (double)n * VM_PAGE_SIZE;
    if (!(dirtied > (double)written * p->cfg.throttle_threshold / 100.0) ||
        ++p->dirty_high < 2)
        return false;
    p->dirty_high = 0;
    uint32_t was = p->st.throttle_pct;
    uint32_t pct = was ? was + p->cfg.throttle_increment : p->cfg.throttle_initial;
    p->st.throttle_pct = pct < p->cfg.throttle_max ? pct : p->cfg.throttle_max;
    if (p->st.throttle_pct > p->st.throttle_max_pct)
        p->st.throttle_max_pct = p->st.throttle_pct;
    return p->st.throttle_pct > was;
}

/*
 * QEMU's migration_bitmap_sync: collect the dirty log into the set; once
 * more than 1 s has passed since the period began, judge the throttle on
 * the period and start a new one.  Returns the pages collected.
 */
static uint64_t bitmap_sync(struct precopy *p)
{
    uint64_t n = port_mem_collect_dirty(p->env.mem, p->set);
    p->st.dirty_syncs++;
    p->period_dirty += n;
    uint64_t now = port_clock_now_ns(p->env.clock);
    if (now - p->period_ns0 > PERIOD_NS) {
        p->st.throttle_checks++;
        if (p->cfg.auto_converge &&
            trigger_throttle(p, p->period_dirty, p->w.bytes_acked - p->period_bytes0))
            p->throttle_rose = true;
        p->period_ns0 = now;
        p->period_dirty = 0;
        p->period_bytes0 = p->w.bytes_acked;
    }
    return n;
}

/*
 * QEMU >= 9.2, auto-converge on: cpu_throttle_dirty_sync_timer_tick every
 * 5 s forces a sync when none happened since the last tick, once round 1
 * is over (more than one sync so far).
 */
static void periodic_sync(struct precopy *p)
{
    uint64_t now = port_clock_now_ns(p->env.clock);
    if (!p->cfg.auto_converge || now < p->next_tick_ns)
        return;
    if (p->st.dirty_syncs > 1 && p->st.dirty_syncs == p->syncs_at_tick) {
        bitmap_sync(p);
        p->st.forced_syncs++;
    }
    p->syncs_at_tick = p->st.dirty_syncs;
    p->next_tick_ns = now + SYNC_TICK_NS;
}

/*
 * QEMU's migration_rate_limit while the VM runs: once a 100 ms window's
 * quota (max_bandwidth / 10) is written, wait for the window's end.
 * Returns true when the saver must wait (the wait is in rate_wait_ns).
 */
static bool rate_limited(struct precopy *p)
{
    if (p->cfg.max_bandwidth_bps <= 0 || p->phase != PRECOPY_LIVE)
        return false;
    uint64_t now = port_clock_now_ns(p->env.clock);
    if (now >= p->win_ns0 + RATE_WINDOW_NS) {
        p->win_ns0 = now;
        p->win_bytes = 0;
    }
    double quota = p->cfg.max_bandwidth_bps * (double)RATE_WINDOW_NS / 1e9;
    if ((double)p->win_bytes < quota)
        return false;
    p->st.rate_wait_ns += p->win_ns0 + RATE_WINDOW_NS - now;
    return true;
}

/* Was page saved before (a stream copy, or found zero)? */
static bool saved_before(const struct precopy *p, uint64_t page)
{
    return p->img->page_lba[page] || ckpt_image_is_zero(p->img, page);
}

/* Submit the next io_pages pages of the set, appended to the stream (its
 * zero pages go into the zero map instead). */
static int submit_chunk(struct precopy *p, uint64_t first)
{
    struct ckpt_wreq *r = ckpt_writer_get(&p->w, 0);
    if (!r)
        return CKPT_STEP_WAIT;
    uint32_t n = 0, scanned = 0;
    uint64_t q = first;
    while (q < p->nr_pages && scanned < p->cfg.io_pages) {
        /* a run of consecutive set pages is read with one call */
        uint64_t lim = q + (p->cfg.io_pages - scanned);
        if (lim > p->nr_pages)
            lim = p->nr_pages;
        uint64_t end = vm_bitmap_next_clear(p->set, lim, q);
        const uint64_t *got = r->fps + n;       /* page x's content at got[x - q] */
        port_mem_read(p->env.mem, q, (uint32_t)(end - q), r->fps + n);
        vm_bitmap_clear_range(p->set, q, end - q);
        for (uint64_t x = q; x < end; x++) {
            uint64_t fp = got[x - q];
            if (p->cfg.zero_pages && fp == VM_FP_ZERO) {
                /* its latest save: zero; any older stream copy is void */
                if (saved_before(p, x))
                    p->st.pages_rewritten++;
                p->img->page_lba[x] = 0;
                vm_bitmap_set(p->img->zero, x);
                p->st.zero_pages_bg++;
                continue;
            }
            r->fps[n] = fp;                     /* n never passes x's own slot in got */
            p->pages[n++] = x;
        }
        scanned += (uint32_t)(end - q);
        p->scan = end;
        q = vm_bitmap_next_set(p->set, p->nr_pages, end);
    }
    if (n == 0) {                       /* zero pages only: nothing to append */
        ckpt_writer_put(&p->w, r);
        return CKPT_STEP_MORE;
    }
    uint64_t lba;
    if (ckpt_writer_alloc(&p->w, n, &lba)) {
        ckpt_writer_put(&p->w, r);
        return ckpt_writer_step_failed(&p->w);
    }
    if (lba + n > UINT32_MAX) {         /* the map holds 32-bit block numbers */
        ckpt_writer_put(&p->w, r);
        p->w.err = VM_ENOSPC;
        return ckpt_writer_step_failed(&p->w);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (saved_before(p, p->pages[i]))
            p->st.pages_rewritten++;
        if (p->img->zero)                 /* its latest save has data: not zero now */
            vm_bitmap_clear(p->img->zero, p->pages[i]);
        p->img->page_lba[p->pages[i]] = (uint32_t)(lba + i);
    }
    p->st.pages_copied_bg += n;
    uint64_t bytes = (uint64_t)n * VM_PAGE_SIZE;
    p->win_bytes += bytes;
    ckpt_writer_stage(&p->w, (int64_t)bytes);
    if (ckpt_writer_submit(&p->w, r, lba, n, 1, 0, 0, bytes, bytes) < 0)
        return ckpt_writer_step_failed(&p->w);
    return CKPT_STEP_MORE;
}

static int precopy_step(struct ckpt_save *s)
{
    struct precopy *p = pc(s);
    if (p->w.err)
        return ckpt_writer_step_failed(&p->w);
    switch (p->phase) {
    case PRECOPY_STUNNED:
        /* the VM is stopped: the writes since the last collection join
         * the final set, and the throttle goes */
        port_mem_collect_dirty(p->env.mem, p->set);    /* ram_save_complete's sync */
        p->st.dirty_syncs++;
        p->st.throttle_pct = 0;
        p->phase = PRECOPY_FINAL;
        p->scan = 0;
        return CKPT_STEP_MORE;
    case PRECOPY_LIVE:
    case PRECOPY_FINAL:
        break;
    }
    if (p->phase == PRECOPY_LIVE)
        periodic_sync(p);
    uint64_t q = vm_bitmap_next_set(p->set, p->nr_pages, p->scan);
    if (q < p->nr_pages)
        return rate_limited(p) ? CKPT_STEP_MORE : submit_chunk(p, q);
    if (p->phase == PRECOPY_FINAL) {
        int rc = ckpt_writer_finish(&p->w, p->img);
        if (p->w.meta != CKPT_WMETA_NONE && p->img->page_lba) {
            /* the map is encoded for the file now: drop the live copy,
             * which would otherwise coexist with the encoding and the
             * device's copy at the end of a large save */
            ckpt_image_drop_page_lba(p->img);
        }
        return rc;
    }
    /* a live round is submitted: wait for its writes, then the next set */
    if (p->w.in_flight)
        return CKPT_STEP_WAIT;
    uint64_t n = bitmap_sync(p);
    if (p->st.forced_syncs)              /* pages a periodic sync added behind the scan */
        n = vm_bitmap_count(p->set, p->nr_pages);
    p->st.rounds++;
    p->scan = 0;
    bool throttled_up = p->throttle_rose;
    p->throttle_rose = false;
    if (fits_downtime(p, n)) {
        p->phase = PRECOPY_STUNNED;
        return CKPT_STEP_STUN;
    }
    bool judged = p->st.throttle_checks != p->checks_at_round;
    p->checks_at_round = p->st.throttle_checks;
    if (n < p->best_set || throttled_up) {
        p->best_set = n < p->best_set ? n : p->best_set;
        p->stalled = 0;
    } else if (p->cfg.auto_converge && !judged) {
        /* no throttle period ended during the round: with auto-converge
         * a stall counts periods, so short rounds leave the throttle its
         * chance to rise (at most once every two periods) */
    } else if (++p->stalled >= p->cfg.stall_rounds) {
        p->st.forced_stop = true;
        p->phase = PRECOPY_STUNNED;
        return CKPT_STEP_STUN;
    }
    return CKPT_STEP_MORE;
}

static const struct ckpt_stats *precopy_stats(const struct ckpt_save *s)
{
    return &((const struct precopy *)s)->st;
}

static const struct vm_param precopy_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_pages), .min = 1, .max = 65536,
      .def = "256", .help = "pages per write request, appended to the stream" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_depth), .min = 1, .max = 1024,
      .def = "4", .help = "write requests in flight" },
    { "max_bandwidth", VM_PARAM_RATE, offsetof(struct ckpt_cfg, max_bandwidth_bps), .min = 0,
      .max = 0, .def = "0B/s",
      .help = "write rate limit while the VM runs, 0 = none (QEMU max-bandwidth: 128 MiB/s "
              "by default, which libvirt lifts for a save; lifted in the final stop)" },
    { "max_downtime", VM_PARAM_TIME, offsetof(struct ckpt_cfg, max_downtime_ns), .min = 0,
      .max = 0, .def = "300ms",
      .help = "stop when the remaining pages fit in this at the measured bandwidth (QEMU "
              "downtime-limit)" },
    { "stall_rounds", VM_PARAM_U32, offsetof(struct ckpt_cfg, stall_rounds), .min = 1,
      .max = 100000, .def = "5",
      .help = "vmsim's rule (QEMU iterates until told to stop): force the final stop after "
              "this many rounds without a smaller dirty set (auto-converge: rounds that "
              "ended a throttle period without raising the throttle)" },
    { "auto_converge", VM_PARAM_BOOL, offsetof(struct ckpt_cfg, auto_converge), .def = "false",
      .help = "throttle the guest while it dirties faster than the disk drains (QEMU)" },
    { "throttle_initial", VM_PARAM_U32, offsetof(struct ckpt_cfg, throttle_initial), .min = 1,
      .max = 99, .def = "20", .help = "auto-converge: first throttle, % (cpu-throttle-initial)" },
    { "throttle_increment", VM_PARAM_U32, offsetof(struct ckpt_cfg, throttle_increment),
      .min = 1, .max = 99, .def = "10",
      .help = "auto-converge: added per step, % (cpu-throttle-increment)" },
    { "throttle_max", VM_PARAM_U32, offsetof(struct ckpt_cfg, throttle_max), .min = 1, .max = 99,
      .def = "99", .help = "auto-converge: ceiling, % (max-cpu-throttle)" },
    { "throttle_threshold", VM_PARAM_U32, offsetof(struct ckpt_cfg, throttle_threshold),
      .min = 1, .max = 100, .def = "50",
      .help = "auto-converge: dirtied > this % of written in a period of > 1 s, twice "
              "(throttle-trigger-threshold)" },
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_precopy_policy = {
    .name = "precopy",
    .desc = "iterative pre-copy to a file (QEMU migrate-to-file, legacy stream): dirty "
            "rounds while the VM runs, device state in the final stop",
    .flags = CKPT_F_INSTANT_AT_STUN | CKPT_F_LIVE_START,
    .params = precopy_params,
    .start = precopy_start,
    .fault = precopy_fault,
    .step = precopy_step,
    .stats = precopy_stats,
    .destroy = precopy_destroy,
    .check = precopy_check,
};
