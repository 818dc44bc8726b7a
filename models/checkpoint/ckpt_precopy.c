/*
 * ckpt_precopy.c - iterative pre-copy to a file (baseline), as QEMU's
 * migrate-to-file does it (migration/migration.c and ram.c): the VM keeps
 * running while rounds of pages are appended to a STREAM file; round 1 is
 * every page, each later round the pages the guest dirtied during the
 * previous one (KVM's dirty log, collected at each bitmap sync).
 *
 * When to stop (QEMU's migration_iteration_run): when the next round's
 * pages would take no longer than max_downtime (downtime-limit, 300 ms by
 * default) to write at the write bandwidth measured so far (bytes
 * acknowledged / time since start), the policy asks the world to stop the
 * VM (CKPT_STEP_STUN, once) and writes the final round with the VM
 * stopped.  The image is the memory at that stop
 * (CKPT_F_INSTANT_AT_STUN); the map gives each page's latest copy.
 *
 * A guest that dirties memory faster than the disk drains never gets
 * there, and QEMU would iterate until a person or a management layer
 * intervenes (libvirt's `migrate --timeout-suspend` pauses the guest so the
 * migration completes; nova's live_migration_timeout_action=force_complete
 * does the same).  vmsim's rule for that, a parameter: once the dirty set
 * has gone stall_rounds (5) rounds without reaching a new minimum (and, with
 * auto-converge, without the throttle rising), the final stop is forced
 * (stats.forced_stop).  No round count caps anything else.
 *
 * auto_converge (QEMU's auto-converge capability, defaults from
 * migration/options.c): at each sync, when the bytes dirtied during the
 * round exceed throttle_threshold (50) % of the bytes written during it
 * for the second time, the guest's vCPUs are throttled: first to
 * throttle_initial (20) %, then throttle_increment (10) more each time, at
 * most throttle_max (99) % (migration_trigger_throttle,
 * mig_throttle_guest_down).  The world applies stats.throttle_pct to the
 * vCPUs, so the throttle shows in the guest's slowdown.
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
 * Not modelled: XBZRLE, multifd, compression of the stream, the 8-byte
 * page headers of the stream.  A stream longer than the file fails with
 * VM_ENOSPC.
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

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
    uint64_t round_bytes0;        /* bytes_acked when the round started */
    uint64_t best_set;            /* smallest dirty set seen after round 1 */
    uint32_t stalled;             /* rounds since best_set last fell */
    uint32_t dirty_high;          /* QEMU's dirty_rate_high_cnt */
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

static int precopy_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                         struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->io_pages == 0 || cfg->io_depth == 0 || cfg->stall_rounds == 0)
        return vm_diag_set(d, VM_EINVAL,
                           "precopy: 'io_pages', 'io_depth' and 'stall_rounds' must be >= 1");
    if (cfg->auto_converge && (cfg->throttle_max > 99 || cfg->throttle_initial == 0 ||
                               cfg->throttle_initial > cfg->throttle_max))
        return vm_diag_set(d, VM_EINVAL, "precopy: expected 1 <= throttle_initial <= "
                           "throttle_max <= 99");
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
    port_mem_collect_dirty(env->mem, NULL);     /* start a clean dirty log */
    vm_bitmap_set_range(p->set, 0, nr_pages);   /* round 1: every page */
    p->st.rounds = 1;
    p->phase = PRECOPY_LIVE;
    p->best_set = UINT64_MAX;
    p->start_ns = port_clock_now_ns(env->clock);
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
 * QEMU's migration_trigger_throttle() at a sync: n pages were dirtied
 * while `written` bytes went to the file.  Dirtying more than
 * throttle_threshold % of that, the second time, throttles the guest down
 * one step.  Returns true when the throttle rose.
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
        port_mem_collect_dirty(p->env.mem, p->set);
        p->st.throttle_pct = 0;
        p->phase = PRECOPY_FINAL;
        p->scan = 0;
        return CKPT_STEP_MORE;
    case PRECOPY_LIVE:
    case PRECOPY_FINAL:
        break;
    }
    uint64_t q = vm_bitmap_next_set(p->set, p->nr_pages, p->scan);
    if (q < p->nr_pages)
        return submit_chunk(p, q);
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
    uint64_t n = port_mem_collect_dirty(p->env.mem, p->set);
    uint64_t written = p->w.bytes_acked - p->round_bytes0;
    p->round_bytes0 = p->w.bytes_acked;
    p->st.rounds++;
    p->scan = 0;
    bool throttled_up = p->cfg.auto_converge && trigger_throttle(p, n, written);
    if (fits_downtime(p, n)) {
        p->phase = PRECOPY_STUNNED;
        return CKPT_STEP_STUN;
    }
    if (n < p->best_set || throttled_up) {
        p->best_set = n < p->best_set ? n : p->best_set;
        p->stalled = 0;
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
    { "max_downtime", VM_PARAM_TIME, offsetof(struct ckpt_cfg, max_downtime_ns), .min = 0,
      .max = 0, .def = "300ms",
      .help = "stop when the remaining pages fit in this at the measured bandwidth (QEMU "
              "downtime-limit)" },
    { "stall_rounds", VM_PARAM_U32, offsetof(struct ckpt_cfg, stall_rounds), .min = 1,
      .max = 100000, .def = "5",
      .help = "force the final stop after this many rounds without a smaller dirty set" },
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
      .help = "auto-converge: dirtied > this % of written, twice (throttle-trigger-threshold)" },
    CKPT_PARAM_CHANNELS,
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_precopy_policy = {
    .name = "precopy",
    .desc = "iterative pre-copy to a file (QEMU migrate-to-file): dirty rounds, final stop",
    .flags = CKPT_F_INSTANT_AT_STUN,
    .params = precopy_params,
    .start = precopy_start,
    .fault = precopy_fault,
    .step = precopy_step,
    .stats = precopy_stats,
    .destroy = precopy_destroy,
};
