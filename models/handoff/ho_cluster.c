/*
 * ho_cluster.c - one episode of the handoff model: its life (new, start,
 * finish, free), message delivery to hosts and the datastore, the needs,
 * the faults as the world applies them (crash, restart, daemon crash,
 * pause, wake), HA restarts, and the methods' defaults.
 *
 * Defaults and their sources:
 *   req_timeout 500 ms, attempts 3, backoff 2, relays 2: our choice for the
 *     patent's unnamed timeouts: a release needs one round trip plus the
 *     flush of one write (a few ms on a LAN), so 500 ms leaves two orders
 *     of magnitude for a loaded owner; three tries with doubling (0.5, 1,
 *     2 s) ride out a lost message or a short stall; two relays cover a
 *     cut between requester and owner.  A dead owner costs the requester
 *     3.5 s of tries, then per relay the relay's own 500 ms wait for the
 *     owner (it answers UNREACHABLE): 4.5 s with two live relays before
 *     it takes over.  A relay is given twice the timeout (its wait is one
 *     hop further); a dead relay costs its tries, 1 + 2 + 4 s.
 *   lease poll 1 s: sanlock's acquire re-reads the owner's delta lease
 *     every second (paxos_lease.c).
 *   ds_timeout 2 s: below VMFS's 8 s heartbeat I/O limit (anchors, IBM).
 *   io_timeout 10 s, watchdog 60 s: sanlock's defaults (src/timeouts.c).
 *   manual operator delay 5 to 30 min: an assumption (a paged on-call
 *     operator), configurable; its needs give up after 1 h, the others'
 *     after 10 min.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_int.h"

static const char *const method_names[HO_NR_METHODS] = {
    [HO_HANDOFF] = "handoff", [HO_MANUAL] = "manual", [HO_LEASE] = "lease",
    [HO_FORCE] = "force", [HO_FORCE_FENCED] = "force-fenced",
    [HO_BROKEN_NOFENCE] = "broken-no-fencing",
};

const char *ho_method_name(enum ho_method m)
{
    return (unsigned)m < HO_NR_METHODS ? method_names[m] : "?";
}

bool ho_method_fences(enum ho_method m)
{
    return m == HO_HANDOFF || m == HO_MANUAL || m == HO_FORCE_FENCED;
}

bool ho_method_unsafe(enum ho_method m)
{
    return m == HO_FORCE;
}

#define MS 1000000ull
#define S 1000000000ull

void ho_params_default(struct ho_params *p, enum ho_method m)
{
    memset(p, 0, sizeof *p);
    p->method = m;
    p->req_timeout_ns = 500 * MS;
    p->attempts = 3;
    p->backoff = 2.0;
    p->relays = 2;
    p->ds_timeout_ns = 2 * S;
    p->poll_ns = 10 * S;
    p->give_up_ns = 600 * S;
    p->max_rounds = 3;
    if (m == HO_MANUAL)
        p->give_up_ns = 3600 * S;       /* the operator may take 30 min */
    if (m == HO_LEASE)
        p->poll_ns = 1 * S;             /* sanlock's acquire re-reads the owner's lease
                                           every second (paxos_lease.c) */
    p->op_min_ns = 300 * S;
    p->op_max_ns = 1800 * S;
    p->io_timeout_ns = 10 * S;
    p->watchdog_ns = 60 * S;
}

void ho_stats_init(struct ho_stats *s)
{
    memset(s, 0, sizeof *s);
    vm_hist_init(&s->open_ns);
    vm_hist_init(&s->unavail_ns);
}

/* ------------------------------------------------------------- life */

static int check_cfg(const struct ho_cfg *cfg, struct vm_diag *d)
{
    if (cfg->nr_hosts < 1 || cfg->nr_hosts > HO_MAX_HOSTS)
        return vm_diag_set(d, VM_EINVAL, "expected 1..%d hosts, got %u", HO_MAX_HOSTS,
                           cfg->nr_hosts);
    if (cfg->nr_disks < 1 || cfg->nr_disks > HO_MAX_DISKS || !cfg->disks)
        return vm_diag_set(d, VM_EINVAL, "expected 1..%d disks, got %u", HO_MAX_DISKS,
                           cfg->nr_disks);
    if (!cfg->write_interval_ns || !cfg->blocks_per_disk)
        return vm_diag_set(d, VM_EINVAL, "write interval and blocks per disk must be > 0");
    const struct ho_params *p = &cfg->params;
    if ((unsigned)p->method >= HO_NR_METHODS || p->attempts < 1 || p->backoff < 1 ||
        !p->req_timeout_ns || !p->ds_timeout_ns || !p->poll_ns || p->max_rounds < 1 ||
        p->op_max_ns < p->op_min_ns || !p->io_timeout_ns)
        return vm_diag_set(d, VM_EINVAL, "bad method parameters");
    for (uint32_t i = 0; i < cfg->nr_disks; i++) {
        const struct ho_disk_cfg *dc = &cfg->disks[i];
        if (dc->holder_host != HO_NONE && dc->holder_host >= cfg->nr_hosts)
            return vm_diag_set(d, VM_EINVAL, "disk %u: holder host %u out of range", i,
                               dc->holder_host);
        for (int k = 0; k < HO_MAX_ACTORS; k++)
            if (dc->actors[k] != HO_NONE && dc->actors[k] >= cfg->nr_hosts)
                return vm_diag_set(d, VM_EINVAL, "disk %u: daemon host %u out of range", i,
                                   dc->actors[k]);
    }
    return 0;
}

struct ho_cluster *ho_cluster_new(const struct ho_cfg *cfg, const struct ho_ports *ports,
                                  uint32_t epoch, uint64_t seed, struct vm_diag *d)
{
    if (check_cfg(cfg, d))
        return NULL;
    struct ho_cluster *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->cfg = *cfg;
    c->p = *ports;
    c->epoch = epoch;
    c->seed = seed;
    c->fences = ho_method_fences(cfg->params.method);
    vm_rand_init(&c->rnd, seed, 0x40u + epoch);
    ho_stats_init(&c->st);
    uint32_t nh = cfg->nr_hosts, nd = cfg->nr_disks;
    c->disk_cfg = malloc(nd * sizeof *c->disk_cfg);
    c->hosts = calloc(nh, sizeof *c->hosts);
    c->cap_opens = 2 * nd + nh + 16;
    c->opens = calloc(c->cap_opens, sizeof *c->opens);
    c->cap_relays = 4 * nd + 16;
    c->relays = calloc(c->cap_relays, sizeof *c->relays);
    c->cap_needs = 4 * nd + 16;
    c->needs = calloc(c->cap_needs, sizeof *c->needs);
    c->cfg.disks = c->disk_cfg;
    if (!c->disk_cfg || !c->hosts || !c->opens || !c->relays || !c->needs)
        goto oom;
    memcpy(c->disk_cfg, cfg->disks, nd * sizeof *c->disk_cfg);
    for (uint32_t h = 0; h < nh; h++) {
        struct ho_host *x = &c->hosts[h];
        x->up = x->daemon_up = true;
        ho_tmr_init(&x->renew_tmr, c, T_RENEW, h);
        ho_tmr_init(&x->fail_tmr, c, T_LEASE_FAIL, h);
        ho_tmr_init(&x->wd_tmr, c, T_WATCHDOG, h);
        ho_tmr_init(&x->ha_tmr, c, T_HA, h);
        if (cfg->params.method == HO_LEASE) {
            x->seen_ts = calloc(nh, sizeof *x->seen_ts);
            x->seen_change_ns = calloc(nh, sizeof *x->seen_change_ns);
            if (!x->seen_ts || !x->seen_change_ns)
                goto oom;
        }
    }
    if (ho_ds_init(c))
        goto oom;
    return c;
oom:
    vm_diag_set(d, VM_ENOMEM, "out of memory for a cluster of %u hosts", cfg->nr_hosts);
    ho_cluster_free(c);
    return NULL;
}

/* Cancel every timer the episode armed, so the timer port may outlive it. */
static void cancel_timers(struct ho_cluster *c)
{
    for (uint32_t h = 0; c->hosts && h < c->cfg.nr_hosts; h++) {
        ho_tmr_cancel(&c->hosts[h].renew_tmr);
        ho_tmr_cancel(&c->hosts[h].fail_tmr);
        ho_tmr_cancel(&c->hosts[h].wd_tmr);
        ho_tmr_cancel(&c->hosts[h].ha_tmr);
    }
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        ho_tmr_cancel(&c->needs[i].tmr);
        ho_tmr_cancel(&c->needs[i].op_tmr);
    }
    for (uint32_t i = 0; i < c->nr_opens; i++)
        ho_tmr_cancel(&c->opens[i].tmr);
    for (uint32_t i = 0; i < c->nr_relays; i++)
        ho_tmr_cancel(&c->relays[i].tmr);
}

void ho_cluster_free(struct ho_cluster *c)
{
    if (!c)
        return;
    if (!c->dead)
        cancel_timers(c);
    if (c->ds_inflight) {               /* the datastore's I/Os still point at it */
        c->dead = true;
        return;
    }
    for (uint32_t h = 0; c->hosts && h < c->cfg.nr_hosts; h++) {
        struct ho_host *x = &c->hosts[h];
        for (size_t k = 0; k < x->dq_len; k++)
            free(x->dq[k].leases);
        free(x->dq);
        free(x->seen_ts);
        free(x->seen_change_ns);
    }
    ho_ds_free(c);
    free(c->hosts);
    free(c->opens);
    free(c->relays);
    free(c->needs);
    free(c->disk_cfg);
    free(c);
}

int ho_start(struct ho_cluster *c)
{
    for (uint32_t d = 0; d < c->cfg.nr_disks; d++) {
        const struct ho_disk_cfg *dc = &c->disk_cfg[d];
        if (dc->holder_host != HO_NONE && dc->holder != HO_HOLD_NONE &&
            ho_open_new(c, d, dc->holder_host, dc->holder, 1) != 0)
            return VM_ENOMEM;
    }
    if (c->cfg.params.method == HO_LEASE)
        for (uint32_t h = 0; h < c->cfg.nr_hosts; h++)
            ho_lease_start(c, h);
    return 0;
}

/* ----------------------------------------------------------- delivery */

static void host_deliver(struct ho_cluster *c, uint32_t host, const struct ho_msg *m,
                         const uint64_t *leases)
{
    if (m->slot_kind == S_REQ && (m->type == M_DS_META || m->type == M_DS_CAW_OK ||
                                  m->type == M_DS_CAW_FAIL || m->type == M_RELEASED ||
                                  m->type == M_REFUSED || m->type == M_UNREACHABLE)) {
        if (m->slot < c->nr_needs) {
            struct ho_need *n = &c->needs[m->slot];
            if (n->seq == m->slot_seq && n->host == host)
                ho_need_msg(c, n, m);
        }
        return;
    }
    if (m->slot_kind == S_RELAY && (m->type == M_RELEASED || m->type == M_REFUSED)) {
        ho_relay_msg(c, host, m);
        return;
    }
    ho_host_msg(c, host, m, leases);
}

void ho_deliver(struct ho_cluster *c, const char *self, const struct port_transport_msg *pm)
{
    if (pm->blob_len < sizeof(struct ho_msg) || c->dead)
        return;
    struct ho_msg m;
    memcpy(&m, pm->blob, sizeof m);
    if (m.epoch != c->epoch)
        return;
    const uint64_t *leases = NULL;
    if (m.nr_leases) {
        if (pm->blob_len != sizeof m + (size_t)m.nr_leases * 8)
            return;
        leases = (const uint64_t *)((const char *)pm->blob + sizeof m);
    }
    if (strcmp(self, "ds") == 0) {
        ho_ds_handle(c, &m);
        return;
    }
    if (self[0] != 'h')
        return;
    char *end;
    unsigned long h = strtoul(self + 1, &end, 10);
    if (*end || h >= c->cfg.nr_hosts || !c->hosts[h].up)
        return;
    if (c->hosts[h].paused) {
        ho_defer(c, (uint32_t)h, &m, leases, NULL, 0);
        return;
    }
    host_deliver(c, (uint32_t)h, &m, leases);
}

/* -------------------------------------------------------------- needs */

static struct ho_need *need_alloc(struct ho_cluster *c, uint32_t disk, uint32_t host,
                                  enum ho_reason why)
{
    if (c->nr_needs == c->cap_needs)
        return NULL;
    struct ho_need *n = &c->needs[c->nr_needs];
    memset(n, 0, sizeof *n);
    n->seq = 1;
    n->disk = disk;
    n->host = host;
    n->why = why;
    n->t_need = ho_now(c);
    n->st = R_WAIT_START;
    ho_tmr_init(&n->tmr, c, T_NEED, c->nr_needs);
    ho_tmr_init(&n->op_tmr, c, T_OPERATOR, c->nr_needs);
    c->nr_needs++;
    c->st.needs++;
    return n;
}

int ho_need(struct ho_cluster *c, uint32_t disk, uint32_t host, enum ho_reason why)
{
    if (disk >= c->cfg.nr_disks || host >= c->cfg.nr_hosts)
        return VM_EINVAL;
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        const struct ho_need *n = &c->needs[i];
        if (n->disk == disk && n->host == host && n->st != R_DONE && n->st != R_FAILED &&
            n->st != R_REFUSED)
            return VM_EBUSY;
    }
    struct ho_need *n = need_alloc(c, disk, host, why);
    if (!n)
        return VM_ENOMEM;
    if (c->hosts[host].up && !c->hosts[host].paused)
        ho_need_start(c, n);
    return 0;
}

/* -------------------------------------------------------------- faults */

void ho_host_crash(struct ho_cluster *c, uint32_t host)
{
    if (host >= c->cfg.nr_hosts || !c->hosts[host].up)
        return;
    struct ho_host *h = &c->hosts[host];
    uint64_t now = ho_now(c);
    h->up = false;
    h->paused = false;
    h->inc++;
    for (size_t k = 0; k < h->dq_len; k++)
        free(h->dq[k].leases);
    h->dq_len = 0;
    ho_tmr_cancel(&h->renew_tmr);
    ho_tmr_cancel(&h->fail_tmr);
    ho_tmr_cancel(&h->wd_tmr);
    for (uint32_t i = 0; i < c->nr_relays; i++)
        if (c->relays[i].live && c->relays[i].host == host) {
            ho_tmr_cancel(&c->relays[i].tmr);
            c->relays[i].live = false;
            c->relays[i].seq++;
        }
    ho_need_host_crash(c, host);
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        struct ho_open *o = &c->opens[i];
        if (!o->live || o->host != host)
            continue;
        bool vm = o->kind == HO_HOLD_VM;
        uint32_t disk = o->disk;
        ho_open_close(c, o);
        if (vm && c->cfg.ha) {          /* HA restarts the VM elsewhere */
            struct ho_need *n = need_alloc(c, disk, HO_NONE, HO_RESTART);
            if (n) {
                n->t_crash = now;
                n->t_need = now + c->cfg.ha_detect_ns;  /* the restart is the need */
                ho_tmr_arm(&n->tmr, now + c->cfg.ha_detect_ns, n->seq);
            }
        }
    }
}

void ho_host_restart(struct ho_cluster *c, uint32_t host)
{
    if (host >= c->cfg.nr_hosts || c->hosts[host].up)
        return;
    struct ho_host *h = &c->hosts[host];
    h->up = h->daemon_up = true;
    h->paused = h->reset_at_wake = false;
    if (c->cfg.params.method == HO_LEASE) {
        h->rejoin = true;               /* a new delta-lease generation */
        ho_lease_start(c, host);
    }
    ho_need_host_restart(c, host);
}

void ho_daemon_crash(struct ho_cluster *c, uint32_t host)
{
    if (host >= c->cfg.nr_hosts || !c->hosts[host].daemon_up)
        return;
    c->hosts[host].daemon_up = false;
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        struct ho_open *o = &c->opens[i];
        if (!o->live || o->host != host || o->kind != HO_HOLD_DAEMON)
            continue;
        uint32_t d = o->disk;
        ho_open_close(c, o);            /* the process died: its lock stays on disk, */
        if (c->cfg.params.method == HO_LEASE && c->ds[d].owner == host)
            ho_ds_clear(c, d);          /* but sanlock releases a dead client's leases */
    }
    for (uint32_t i = 0; i < c->nr_relays; i++)
        if (c->relays[i].live && c->relays[i].host == host) {
            ho_tmr_cancel(&c->relays[i].tmr);
            c->relays[i].live = false;
            c->relays[i].seq++;
        }
}

void ho_daemon_restart(struct ho_cluster *c, uint32_t host)
{
    if (host < c->cfg.nr_hosts && c->hosts[host].up)
        c->hosts[host].daemon_up = true;
}

/* HA's verdict on a frozen host: it answers no heartbeat, network or
 * datastore, so once ha_detect has passed HA declares it failed and
 * restarts its VMs elsewhere, as after a crash; when it wakes, its VMs are
 * still running (the false alarm the fencing must make harmless). */
void ho_ha_pause_check(struct ho_cluster *c, uint32_t host, uint32_t pause_seq)
{
    struct ho_host *h = &c->hosts[host];
    if (!h->up || !h->paused || h->pause_seq != pause_seq)
        return;
    for (uint32_t i = 0; i < c->nr_opens; i++) {
        const struct ho_open *o = &c->opens[i];
        if (!o->live || o->host != host || o->kind != HO_HOLD_VM)
            continue;
        struct ho_need *n = need_alloc(c, o->disk, HO_NONE, HO_RESTART);
        if (n) {
            n->t_crash = h->paused_at;
            ho_need_start(c, n);
        }
    }
}

void ho_host_pause(struct ho_cluster *c, uint32_t host)
{
    if (host >= c->cfg.nr_hosts || !c->hosts[host].up || c->hosts[host].paused)
        return;
    struct ho_host *h = &c->hosts[host];
    h->paused = true;
    h->paused_at = ho_now(c);
    h->pause_seq++;
    if (c->cfg.ha)
        ho_tmr_arm(&h->ha_tmr, h->paused_at + c->cfg.ha_detect_ns, h->pause_seq);
    /* the hardware watchdog keeps counting: wdmd pets it no more */
    if (c->cfg.params.method == HO_LEASE)
        ho_tmr_arm(&h->wd_tmr, ho_now(c) + c->cfg.params.watchdog_ns, h->inc);
}

void ho_host_wake(struct ho_cluster *c, uint32_t host)
{
    if (host >= c->cfg.nr_hosts)
        return;
    struct ho_host *h = &c->hosts[host];
    if (h->reset_at_wake) {             /* the watchdog reset it meanwhile: it reboots */
        h->reset_at_wake = false;
        ho_host_restart(c, host);
        return;
    }
    if (!h->up || !h->paused)
        return;
    h->paused = false;
    ho_tmr_cancel(&h->wd_tmr);
    /* what it missed, in order; handling may defer nothing more now */
    for (size_t k = 0; k < h->dq_len && h->up && !h->paused; k++) {
        struct ho_deferred *e = &h->dq[k];
        if (e->is_msg)
            host_deliver(c, host, &e->m, e->leases);
        else if (e->tmr->arms == e->arms)   /* not cancelled or re-armed since */
            ho_run_timer(c, e->tmr, e->seq);
    }
    for (size_t k = 0; k < h->dq_len; k++)
        free(h->dq[k].leases);
    h->dq_len = 0;
    /* a need raised while it was frozen waits, unstarted, for this */
    if (h->up && !h->paused)
        ho_need_host_restart(c, host);
}

/* ----------------------------------------------------------- queries */

bool ho_quiet(const struct ho_cluster *c)
{
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        enum ho_rstate s = c->needs[i].st;
        if (s != R_DONE && s != R_FAILED && s != R_REFUSED)
            return false;
    }
    return true;
}

uint32_t ho_owner(const struct ho_cluster *c, uint32_t disk, uint64_t *gen)
{
    if (disk >= c->cfg.nr_disks)
        return HO_NONE;
    if (gen)
        *gen = c->ds[disk].gen;
    return c->ds[disk].owner;
}

uint32_t ho_holder_host(const struct ho_cluster *c, uint32_t disk)
{
    for (uint32_t i = 0; i < c->nr_opens; i++)
        if (c->opens[i].live && c->opens[i].disk == disk)
            return c->opens[i].host;
    return HO_NONE;
}

void ho_finish(struct ho_cluster *c, struct ho_stats *out)
{
    ho_check_finish(c);
    c->st.msgs = 0;                     /* the handoffs' messages, not the writes' */
    for (uint32_t i = 0; i < c->nr_needs; i++) {
        c->st.msgs += c->needs[i].msgs;
        enum ho_rstate s = c->needs[i].st;
        if (s != R_DONE && s != R_FAILED && s != R_REFUSED)
            c->st.unresolved++;
    }
    ho_stats_merge(out, &c->st);
}

void ho_stats_merge(struct ho_stats *out, const struct ho_stats *s)
{
    out->needs += s->needs;
    out->opened += s->opened;
    out->failed += s->failed;
    out->refused += s->refused;
    out->unresolved += s->unresolved;
    vm_hist_merge(&out->open_ns, &s->open_ns);
    vm_hist_merge(&out->unavail_ns, &s->unavail_ns);
    out->msgs += s->msgs;
    out->retries += s->retries;
    out->takeovers += s->takeovers;
    out->false_takeovers += s->false_takeovers;
    out->stale_refused += s->stale_refused;
    out->lease_kills += s->lease_kills;
    out->watchdog_resets += s->watchdog_resets;
    out->writes_checked += s->writes_checked;
    out->meta_checked += s->meta_checked;
    out->sessions += s->sessions;
    out->double_writer += s->double_writer;
    out->double_writer_ns += s->double_writer_ns;
    out->lost_acked += s->lost_acked;
    out->split_owner += s->split_owner;
}
