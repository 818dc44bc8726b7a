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

#include <simgrid/actor.h>
#include <simgrid/host.h>

#include "handoff/sim_ho.h"
#include "handoff/sim_ho_int.h"
#include "sim_disk.h"
#include "sim_timer.h"
#include "sim_transport.h"
#include "sim_world.h"

/* ------------------------------------------------------- receivers */

struct rx {
    struct sim_ho_world *w;
    char name[16];
};

#define RX_STOP 0xffffu                 /* a tag no model message has */

static void rx_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct rx *r = sg_actor_self_get_data();
    for (;;) {
        struct port_transport_msg m;
        if (port_transport_recv(r->w->port, r->name, PORT_TRANSPORT_FOREVER, &m) < 0)
            break;
        bool stop = m.tag == RX_STOP;
        if (!stop && r->w->cur)
            ho_deliver(r->w->cur, r->name, &m);
        port_transport_msg_free(&m);
        if (stop)
            break;
    }
    r->w->rx_live--;
    sim_waitq_wake_all(r->w->rx_wq);
}

/* Stop the receivers (the transport may go only when no actor waits in
 * it): one stop message each, then wait for them to end. */
static void stop_rx(struct sim_ho_world *w)
{
    struct port_transport_out stop = { .tag = RX_STOP, .wire_bytes = 0 };
    for (int i = 0; i < w->nr_rx; i++)
        (void)port_transport_send(w->port, "ds", w->rx[i].name, &stop, 0);
    while (w->rx_live > 0)
        sim_waitq_wait(w->rx_wq);
}

static int start_rx(struct sim_ho_world *w, const char *name, sg_host_t on, struct vm_diag *d)
{
    int rc = sim_transport_endpoint(w->tr, name, on, d);
    if (rc)
        return rc;
    struct rx *r = &w->rx[w->nr_rx++];
    r->w = w;
    snprintf(r->name, sizeof r->name, "%s", name);
    char an[32];
    snprintf(an, sizeof an, "rx-%s", name);
    sg_actor_t a = sg_actor_init(an, on);
    sg_actor_set_data(a, r);
    w->rx_live++;
    sg_actor_start(a, rx_main, 0, NULL);
    return 0;
}

/* ------------------------------------------------------------- run */

static int setup(struct sim_ho_world *w, const struct sim_exp *e, sg_host_t ds_host,
                 struct vm_diag *d)
{
    const struct sim_ho_cfg *c = w->c;
    w->ds_host = ds_host;
    w->hosts = calloc(c->hosts, sizeof *w->hosts);
    w->rx = calloc(c->hosts + 1, sizeof *w->rx);
    w->dcfg = calloc(c->disks, sizeof *w->dcfg);
    if (!w->hosts || !w->rx || !w->dcfg)
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
    if (!(w->rx_wq = sim_waitq_new()))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    int rc = start_rx(w, "ds", ds_host, d);
    for (uint32_t i = 0; i < c->hosts && !rc; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%u", i);
        rc = start_rx(w, name, w->hosts[i], d);
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
        stop_rx(w);
        sim_transport_free(w->tr);
    }
    if (w->rx_wq)
        sim_waitq_free(w->rx_wq);
    if (w->disk)
        sim_disk_close(w->disk);
    free(w->hosts);
    free(w->rx);
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
