/*
 * sim_ho_episode.c - the handoff run point's episodes: each a fresh
 * cluster (ho_cluster_new) on the same simulated world, its needs and
 * faults armed relative to its start, its figures added to the run's.
 *
 * Faults come from the core's service (sim_faults.h): the config's
 * "faults", plus under campaign.random a schedule drawn per episode from
 * the episode's seed (host crashes, daemon crashes, partitions between
 * hosts and between a host and the datastore, message loss and delay,
 * host freezes) and, one time in four, a slow datastore window.  Host
 * events go to the model (crash, restart, daemon death, freeze, wake);
 * message faults act in the transport (sim_transport_set_filter); disk
 * faults in the datastore's disk (sim_disk_set_faults, timed from the
 * episode's start).
 *
 * Shrinking: the first episode that shows a kind of violation (double
 * writer, lost acknowledged write, split owner) is run again with one
 * fault left out at a time, keeping each removal under which the kind
 * still shows, until no single removal keeps it: a 1-minimal schedule
 * (Zeller's ddmin, one element at a time).  The result's "detail" gives,
 * per kind, the episode, its seed and the schedule as a config "faults"
 * array: a config with that seed, those faults and campaign.random false
 * replays it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "handoff/sim_ho_int.h"
#include "sim_cfg.h"
#include "sim_disk.h"
#include "sim_faults.h"
#include "sim_timer.h"
#include "sim_transport.h"
#include "sim_world.h"

#define MAX_SCHED (SIM_MAX_FAULTS + 1)

enum vkind { V_DW, V_LOST, V_SPLIT, V_NR };
static const char *const vkind_names[V_NR] = { "double_writer", "lost_acked", "split_owner" };

/* Streams of the run point's seed: each episode's seed, and each
 * schedule's slow datastore draw (vm_rand: independent of other draws). */
#define STREAM_EPISODE 0x5e5u
#define STREAM_SLOW 0x51u

/* -------------------------------------------------------------- params */

void sim_ho_params(const struct sim_exp *e, struct ho_params *p)
{
    enum ho_method m = HO_HANDOFF;
    for (int i = 0; i < HO_NR_METHODS; i++)
        if (strcmp(e->policy, ho_method_name((enum ho_method)i)) == 0)
            m = (enum ho_method)i;
    ho_params_default(p, m);
    struct sim_policy_info pi;
    if (!sim_policy_find(e->policy_set, e->policy, &pi) || !pi.params)
        return;
    for (const struct vm_param *r = pi.params; r->name; r++) {
        size_t sz = r->type == VM_PARAM_U32 ? 4 : r->type == VM_PARAM_BOOL ? sizeof(bool) : 8;
        memcpy((char *)p + r->off, (const char *)e->policy_cfg + r->off, sz);
    }
}

/* ------------------------------------------------------------ episode */

struct need_arg {
    struct sim_ho_world *w;
    struct ho_cluster *c;
    int i;
};

static void need_fire(void *arg)
{
    struct need_arg *a = arg;
    const struct sim_ho_need *n = &a->w->c->needs[a->i];
    static const enum ho_reason reasons[] = { HO_RESTART, HO_POWER_ON, HO_MIGRATE };
    int h = sim_ho_host_index(a->w->c, n->host);
    if (h >= 0)
        (void)ho_need(a->c, n->disk, (uint32_t)h, reasons[n->reason]);
}

static void on_fault(void *arg, const struct sim_fault_event *ev)
{
    struct sim_ho_world *w = arg;
    int h = sim_ho_host_index(w->c, ev->host);
    if (h < 0 || !w->cur)
        return;
    switch (ev->kind) {
    case SIM_FAULT_HOST_CRASH:
        (ev->begin ? ho_host_crash : ho_host_restart)(w->cur, (uint32_t)h);
        break;
    case SIM_FAULT_DAEMON_CRASH:
        (ev->begin ? ho_daemon_crash : ho_daemon_restart)(w->cur, (uint32_t)h);
        break;
    case SIM_FAULT_CLOCK_PAUSE:
        (ev->begin ? ho_host_pause : ho_host_wake)(w->cur, (uint32_t)h);
        break;
    default:
        break;
    }
}

/* One episode with faults f[0..n) from now; its figures into *st. */
static int episode(struct sim_ho_world *w, uint32_t epoch, uint64_t seed,
                   const struct sim_exp_fault *f, int n, struct ho_stats *st,
                   struct sim_outcome *out)
{
    struct vm_diag d = { 0 };
    const struct sim_ho_cfg *c = w->c;
    uint64_t t0 = sim_now_ns();
    struct port_timer *timer = w->timer;
    struct sim_faults *fs = NULL;
    struct ho_cluster *cl = NULL;
    struct need_arg na[SIM_HO_MAX_NEEDS];
    uint64_t need_tmr[SIM_HO_MAX_NEEDS] = { 0 };
    int rc = VM_ENOMEM;
    ho_stats_init(st);
    struct ho_ports p = { .clock = (struct port_clock *)sim_world_clock(), .timer = timer,
                          .net = w->port,
                          .ds_dev = sim_disk_port(w->disk) };
    if (!(cl = ho_cluster_new(&w->hcfg, &p, epoch, seed, &d)))
        goto fail;
    if (!(fs = sim_faults_new(f, n, t0, seed, "", &d)) ||
        (rc = sim_faults_arm(fs, timer, on_fault, w)) != 0)
        goto fail;
    sim_transport_set_filter(w->tr, sim_faults_transport_filter, fs);
    if ((rc = sim_disk_set_faults(w->disk, f, n, t0)) != 0)
        goto fail;
    w->cur = cl;
    if ((rc = ho_start(cl)) != 0)
        goto fail;
    for (int i = 0; i < c->nr_needs; i++) {
        na[i] = (struct need_arg){ .w = w, .c = cl, .i = i };
        need_tmr[i] = port_timer_arm(timer, t0 + c->needs[i].at_ns, need_fire, &na[i]);
    }
    sim_sleep_ns(c->duration_ns);
    ho_finish(cl, st);
    rc = 0;
fail:
    if (rc)
        sim_outcome_fail(out, rc ? rc : VM_ENOMEM, "episode %u: %s", epoch,
                         d.code ? d.msg : vm_strerror(rc));
    w->cur = NULL;
    (void)sim_disk_set_faults(w->disk, NULL, 0, 0);
    sim_transport_set_filter(w->tr, NULL, NULL);
    /* one timer port for every episode (an actor per episode would cost
     * SimGrid memory each time): what this one armed is cancelled */
    for (int i = 0; i < c->nr_needs; i++)
        if (need_tmr[i])
            (void)port_timer_cancel(timer, need_tmr[i]);
    sim_faults_free(fs);
    ho_cluster_free(cl);
    return rc;
}

/* ----------------------------------------------------------- schedules */

static const char **host_names(const struct sim_ho_cfg *c)
{
    const char **v = calloc(c->hosts, sizeof *v);
    char *buf = calloc(c->hosts, 16);
    if (!v || !buf) {
        free(v);
        free(buf);
        return NULL;
    }
    for (uint32_t i = 0; i < c->hosts; i++) {
        snprintf(buf + 16 * i, 16, "h%u", i);
        v[i] = buf + 16 * i;
    }
    return v;
}

/* The episode's schedule: the config's faults, then a drawn one. */
static int schedule(const struct sim_ho_world *w, const char *const *names, uint64_t seed,
                    struct sim_exp_fault *f)
{
    const struct sim_exp *e = w->e;
    const struct sim_ho_cfg *c = w->c;
    int n = 0;
    for (int i = 0; i < e->nr_faults && n < MAX_SCHED; i++)
        f[n++] = e->faults[i];
    if (!c->random)
        return n;
    struct sim_fault_space sp = {
        .kinds = SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH) | SIM_FAULT_BIT(SIM_FAULT_DAEMON_CRASH) |
                 SIM_FAULT_BIT(SIM_FAULT_PARTITION) | SIM_FAULT_BIT(SIM_FAULT_MSG_LOSS) |
                 SIM_FAULT_BIT(SIM_FAULT_MSG_DELAY) | SIM_FAULT_BIT(SIM_FAULT_CLOCK_PAUSE),
        .hosts = names, .nr_hosts = (int)c->hosts, .storage_host = e->host,
        .horizon_ns = c->horizon_ns, .min_faults = (int)c->faults_min,
        .max_faults = (int)c->faults_max, .down_min_ns = c->down_min_ns,
        .down_max_ns = c->down_max_ns, .pause_min_ns = c->pause_min_ns,
        .pause_max_ns = c->pause_max_ns, .cut_min_ns = c->cut_min_ns,
        .cut_max_ns = c->cut_max_ns, .p_min = 0, .p_max = c->loss_max,
        .delay_min_ns = 1000000, .delay_max_ns = c->delay_max_ns,
    };
    int room = MAX_SCHED - 1 - n;
    int k = sim_faults_draw(seed, &sp, f + n, room);
    if (k < 0)
        return k;
    n += k;
    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_SLOW);
    if (c->slow_max > 1 && vm_rand_below(&r, 4) == 0) {    /* a slow datastore window */
        struct sim_exp_fault *s = &f[n++];
        double lo = c->slow_max < 2 ? c->slow_max : 2;
        memset(s, 0, sizeof *s);
        s->kind = SIM_FAULT_DISK_SLOW;
        s->from_ns = vm_rand_below(&r, c->horizon_ns);
        s->until_ns = s->from_ns + c->cut_min_ns +
                      vm_rand_below(&r, c->cut_max_ns - c->cut_min_ns + 1);
        s->factor = lo + vm_rand_double(&r) * (c->slow_max - lo);
    }
    return n;
}

static bool shows(const struct ho_stats *s, int k)
{
    return k == V_DW ? s->double_writer > 0 : k == V_LOST ? s->lost_acked > 0
                                                          : s->split_owner > 0;
}

/* Leave out one fault at a time while kind k still shows. */
static int shrink(struct sim_ho_world *w, uint32_t *epoch, uint64_t seed, int k,
                  struct sim_exp_fault *f, int *n, struct sim_outcome *out)
{
    bool again = true;
    while (again && *n > 0) {
        again = false;
        for (int i = 0; i < *n; i++) {
            struct sim_exp_fault g[MAX_SCHED];
            int m = 0;
            for (int j = 0; j < *n; j++)
                if (j != i)
                    g[m++] = f[j];
            struct ho_stats st;
            int rc = episode(w, ++*epoch, seed, g, m, &st, out);
            if (rc)
                return rc;
            if (shows(&st, k)) {
                memcpy(f, g, (size_t)m * sizeof *g);
                *n = m;
                again = true;
                break;
            }
        }
    }
    return 0;
}

static void add_detail(struct sim_outcome *out, size_t *len, int k, uint64_t ep, uint64_t seed,
                       const struct sim_exp_fault *f, int n)
{
    char sched[8192];
    if (sim_faults_format(f, n, sched, sizeof sched) >= (int)sizeof sched)
        snprintf(sched, sizeof sched, "[]");
    size_t cap = sizeof out->detail;
    int w = snprintf(out->detail + *len, cap - *len,
                     "%s\"%s\": {\"episode\": %llu, \"seed\": %llu, \"faults\": %s}",
                     *len > 1 ? ", " : "", vkind_names[k], (unsigned long long)ep,
                     (unsigned long long)seed, sched);
    if (w > 0 && (size_t)w < cap - *len)
        *len += (size_t)w;
}

int sim_ho_campaign(struct sim_ho_world *w, struct sim_outcome *out)
{
    const struct sim_ho_cfg *c = w->c;
    const char **names = host_names(c);
    if (!names) {
        sim_outcome_fail(out, VM_ENOMEM, "out of memory");
        return VM_ENOMEM;
    }
    uint32_t epoch = 0;
    bool found[V_NR] = { false };
    size_t dlen = 0;
    int rc = 0;
    struct vm_rand seeds;
    vm_rand_init(&seeds, w->e->seed, STREAM_EPISODE);
    for (uint32_t i = 0; i < c->schedules && rc == 0; i++) {
        /* one episode alone runs on the run point's seed: a schedule the
         * detail reports replays as a config with that seed */
        uint64_t next = vm_rand_u64(&seeds) % ((uint64_t)SIM_CFG_SEED_MAX + 1);
        uint64_t seed = c->schedules == 1 ? w->e->seed : next;
        struct sim_exp_fault f[MAX_SCHED];
        int n = schedule(w, names, seed, f);
        if (n < 0) {
            sim_outcome_fail(out, n, "drawing fault schedule %u", i);
            rc = n;
            break;
        }
        struct ho_stats st;
        if ((rc = episode(w, ++epoch, seed, f, n, &st, out)) != 0)
            break;
        w->episodes++;
        bool bad = st.double_writer || st.lost_acked || st.split_owner;
        w->episodes_bad += bad;
        /* the run's figures are the episodes', not the replays' */
        struct ho_stats keep = st;
        for (int k = 0; k < V_NR && rc == 0; k++) {
            if (found[k] || !shows(&st, k))
                continue;
            found[k] = true;
            struct sim_exp_fault g[MAX_SCHED];
            int m = n;
            memcpy(g, f, (size_t)n * sizeof *f);
            if ((rc = shrink(w, &epoch, seed, k, g, &m, out)) != 0)
                break;
            if (dlen == 0)
                dlen = (size_t)snprintf(out->detail, sizeof out->detail, "{");
            add_detail(out, &dlen, k, i, seed, g, m);
        }
        ho_stats_merge(&w->total, &keep);
    }
    if (dlen && dlen + 2 < sizeof out->detail)
        snprintf(out->detail + dlen, sizeof out->detail - dlen, "}");
    else if (dlen)
        out->detail[0] = '\0';
    free((void *)names[0]);
    free(names);
    return rc;
}
