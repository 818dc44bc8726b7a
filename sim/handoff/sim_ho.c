/*
 * sim_ho.c - the handoff driver (sim_ho.h): the cluster's endpoints on
 * the platform's hosts, the datastore on the experiment's host and disk,
 * one receiving actor per endpoint handing messages to the episode's
 * model, and the episodes one after another.
 *
 * Activities: one per message (its carrier), one per datastore I/O, one
 * per distinct timer deadline; nothing per page or per block.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/host.h>

#include "handoff/sim_ho.h"
#include "handoff/sim_ho_int.h"
#include "sim_disk.h"
#include "sim_rx.h"
#include "sim_timer.h"
#include "sim_transport.h"
#include "sim_world.h"

/* ------------------------------------------------------- receivers */

static void deliver(void *arg, const char *self, const struct port_transport_msg *m)
{
    struct sim_ho_world *w = arg;
    if (w->cur)
        ho_deliver(w->cur, self, m);
}

/* ------------------------------------------------------------- run */

static int setup(struct sim_ho_world *w, const struct sim_exp *e, sg_host_t ds_host,
                 struct vm_diag *d)
{
    const struct sim_ho_cfg *c = w->c;
    w->ds_host = ds_host;
    w->hosts = calloc(c->hosts, sizeof *w->hosts);
    w->dcfg = calloc(c->disks, sizeof *w->dcfg);
    if (!w->hosts || !w->dcfg)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < c->hosts; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        if (!(w->hosts[i] = sim_world_host(name, d)))
            return d->code ? d->code : VM_EINVAL;
    }
    if (!(w->disk = sim_disk_open(ds_host, e->disk, d)))
        return d->code;
    if (!(w->timer = sim_timer_new(ds_host)))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    if (!(w->tr = sim_transport_new(e->seed, d)))
        return d->code;
    w->port = sim_transport_port(w->tr);
    if (!(w->rx = sim_rx_new(w->tr, (int)c->hosts + 1, deliver, w, d)))
        return d->code;
    int rc = sim_rx_endpoint(w->rx, "ds", ds_host, d);
    for (uint32_t i = 0; i < c->hosts && !rc; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        rc = sim_rx_endpoint(w->rx, name, w->hosts[i], d);
    }
    if (rc)
        return rc;
    /* the disks: disk i on host i mod vm_hosts, its daemons the next hosts */
    uint32_t vmh = c->vm_hosts ? c->vm_hosts : c->hosts;
    for (uint32_t i = 0; i < c->disks; i++) {
        struct ho_disk_cfg *dc = &w->dcfg[i];
        dc->holder_host = i % vmh;
        dc->holder = i >= c->disks - c->daemon_disks ? HO_HOLD_DAEMON : HO_HOLD_VM;
        for (uint32_t k = 0; k < HO_MAX_ACTORS; k++)
            dc->actors[k] = k <= c->daemons ? (dc->holder_host + k) % c->hosts : HO_NONE;
    }
    w->hcfg = (struct ho_cfg){
        .nr_hosts = c->hosts, .nr_disks = c->disks, .disks = w->dcfg,
        .write_interval_ns = c->write_interval_ns, .blocks_per_disk = c->blocks,
        .write_bytes = c->write_bytes, .msg_bytes = c->msg_bytes, .ha = c->ha,
        .ha_detect_ns = c->ha_detect_ns,
    };
    sim_ho_params(e, &w->hcfg.params);
    return 0;
}

static void teardown(struct sim_ho_world *w)
{
    if (w->timer)
        sim_timer_free(w->timer);
    if (w->tr) {
        sim_transport_set_filter(w->tr, NULL, NULL);
        if (w->rx)
            sim_rx_stop(w->rx, "ds");
        sim_transport_free(w->tr);
    }
    sim_rx_free(w->rx);
    if (w->disk)
        sim_disk_close(w->disk);
    free(w->hosts);
    free(w->dcfg);
}

static void report(const struct sim_ho_world *w, struct sim_outcome *o)
{
    const struct ho_stats *s = &w->total;
    bool unsafe = ho_method_unsafe(w->hcfg.params.method);
    double needs = s->needs ? (double)s->needs : 1.0;
#define SET(id, v) sim_outcome_set(o, SIM_HO_M_##id, (double)(v))
    SET(OPEN_P50, vm_hist_quantile(&s->open_ns, 0.5));
    SET(OPEN_P99, vm_hist_quantile(&s->open_ns, 0.99));
    SET(OPEN_MAX, s->open_ns.count ? s->open_ns.max : 0);
    SET(UNAV_P50, vm_hist_quantile(&s->unavail_ns, 0.5));
    SET(UNAV_MAX, s->unavail_ns.count ? s->unavail_ns.max : 0);
    SET(NEEDS, s->needs);
    SET(OPENED, s->opened);
    SET(FAILED, s->failed);
    SET(UNRESOLVED, s->unresolved);
    SET(REFUSED, s->refused);
    SET(MSGS, (double)s->msgs / needs);
    SET(RETRIES, (double)s->retries / needs);
    SET(TAKEOVERS, s->takeovers);
    SET(FALSE_TO, s->false_takeovers);
    SET(STALE, s->stale_refused);
    SET(DW, s->double_writer);
    SET(DW_NS, s->double_writer_ns);
    SET(LOST, s->lost_acked);
    SET(SPLIT, s->split_owner);
    SET(LEASE_KILLS, s->lease_kills);
    SET(WD_RESETS, s->watchdog_resets);
    SET(EPISODES, w->episodes);
    SET(EP_BAD, w->episodes_bad);
#undef SET
    o->inv[SIM_HO_INV_WRITES] = s->writes_checked;
    o->inv[SIM_HO_INV_META] = s->meta_checked;
    o->inv[SIM_HO_INV_SESSIONS] = s->sessions;
    if (!unsafe) {                      /* unsafe by design: figures, not failures */
        o->inv[SIM_HO_INV_DW] = s->double_writer;
        o->inv[SIM_HO_INV_LOST] = s->lost_acked;
        o->inv[SIM_HO_INV_SPLIT] = s->split_owner;
    }
}

void sim_ho_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out)
{
    struct sim_ho_world w = { .e = e, .c = e->mech_cfg };
    struct vm_diag d = { 0 };
    ho_stats_init(&w.total);
    if (setup(&w, e, host, &d)) {
        sim_outcome_fail(out, d.code ? d.code : VM_EINVAL, "%s", d.msg);
        teardown(&w);
        return;
    }
    int rc = sim_ho_campaign(&w, out);
    if (rc == 0)
        report(&w, out);
    teardown(&w);
}
