/*
 * at_world.c - the datacenter unit tests' world (at_world.h): a queueing
 * transport over the fake timer, a small catalog and the depot's keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_world.h"

struct delivery {
    struct at_world *w;
    char to[16], from[16];       /* the sender's name outlives the message */
    struct port_transport_msg m;
};

static void deliver(void *arg)
{
    struct delivery *dv = arg;
    if (dv->w->dc)
        at_deliver(dv->w->dc, dv->to, &dv->m);
    free(dv->m.blob);
    free(dv);
}

static int w_send(struct port_transport *t, const char *from, const char *to,
                  const struct port_transport_out *m, unsigned flags)
{
    (void)flags;
    struct at_world *w = (struct at_world *)((char *)t - offsetof(struct at_world, net));
    uint64_t now = w->clk.now_ns;
    w->sent++;
    w->sent_bytes += m->wire_bytes;
    if (!strcmp(to, "depot"))
        w->sent_to_depot++;
    struct delivery *dv = calloc(1, sizeof *dv);
    if (!dv)
        abort();                 /* a test helper: no memory is fatal */
    dv->w = w;
    snprintf(dv->to, sizeof dv->to, "%s", to);
    dv->m.kind = PORT_TRANSPORT_MSG;
    dv->m.tag = m->tag;
    dv->m.blob = malloc(m->blob_len ? m->blob_len : 1);
    memcpy(dv->m.blob, m->blob, m->blob_len);
    dv->m.blob_len = m->blob_len;
    dv->m.wire_bytes = m->wire_bytes;
    dv->m.sent_ns = now;
    dv->m.recv_ns = now + w->lat_ns;
    snprintf(dv->from, sizeof dv->from, "%s", from);
    dv->m.from = dv->from;
    port_timer_arm(fake_timer_port(w->ft), now + w->lat_ns, deliver, dv);
    return 0;
}

static const struct port_transport_ops net_ops = { .version = PORT_TRANSPORT_VERSION,
                                                   .name = "at-world", .send = w_send };

struct at_world *at_world_new(uint32_t nr_hosts, enum at_method m)
{
    struct at_world *w = calloc(1, sizeof *w);
    fake_clock_init(&w->clk, 0);
    w->ft = fake_timer_new(&w->clk);
    w->net.ops = &net_ops;
    w->lat_ns = 200000;          /* 200 us */
    at_catalog_init(&w->base);
    for (uint32_t p = 0; p < 8; p++) {
        struct at_file f[4];
        char name[32], ver[16];
        snprintf(name, sizeof name, "pkg%u", p);
        snprintf(ver, sizeof ver, "1.%u", p);
        for (uint32_t i = 0; i < 4; i++) {
            memset(&f[i], 0, sizeof f[i]);
            snprintf(f[i].path, sizeof f[i].path, "/usr/lib/%s/file%u.so", name, i);
            char b[64];
            int n = snprintf(b, sizeof b, "%s:%u", name, i);
            at_sha256(b, (size_t)n, f[i].sha256);
        }
        at_catalog_add(&w->base, name, ver, "vmware", false, f, 4, NULL);
    }
    uint8_t seed[AT_SEED_LEN];
    at_key_seed(seed, "depot-targets", 1, 0);
    at_key_init(&w->cfg.depot_targets_key, seed, NULL);
    at_key_seed(seed, "depot-timestamp", 1, 0);
    at_key_init(&w->cfg.depot_ts_key, seed, NULL);
    struct at_cfg *c = &w->cfg;
    c->depot_key_seed = 1;       /* the same derivation as the two keys above */
    c->nr_hosts = nr_hosts;
    c->rack_hosts = 10;
    c->nr_nodes = 4;
    c->cluster_nodes = 2;
    c->cluster_hosts = 25;
    c->node_cores = 4;
    c->depot_cores = 4;
    c->base = &w->base;
    c->releases = w->rel;
    c->attacks = w->atk;
    c->boot_at_ns = 0;
    c->boot_spread_ns = 10 * AT_S;
    c->boot_time_ns = 60 * AT_S;
    c->batch_ns = AT_MS;
    c->msg_bytes = 256;
    c->sample = 1.0;
    c->bin_ns = 60 * AT_S;
    c->costs = (struct at_costs){ .sha256_ns_per_byte = 2, .sha256_small_ns = 500,
                                  .sign_ns = 30000, .verify_ns = 60000, .lookup_ns = 200 };
    at_params_default(&c->params, m);
    c->seed = 1;
    return w;
}

int at_world_build(struct at_world *w)
{
    struct vm_diag d = { 0 };
    struct at_ports p = { .clock = &w->clk.base, .timer = fake_timer_port(w->ft), .net = &w->net };
    w->dc = at_dc_new(&w->cfg, &p, &d);
    if (!w->dc) {
        fprintf(stderr, "at_world_build: %s\n", d.msg);
        return d.code ? d.code : VM_EINVAL;
    }
    return at_start(w->dc);
}

void at_world_free(struct at_world *w)
{
    if (!w)
        return;
    at_dc_free(w->dc);
    w->dc = NULL;
    /* messages in flight find no datacenter */
    while (fake_timer_run_next(w->ft))
        ;
    fake_timer_free(w->ft);
    at_catalog_free(&w->base);
    at_key_free(&w->cfg.depot_targets_key);
    at_key_free(&w->cfg.depot_ts_key);
    free(w);
}

void at_world_run_until(struct at_world *w, uint64_t t_ns)
{
    fake_timer_run_until(w->ft, t_ns);
}

struct at_stats at_world_finish(struct at_world *w)
{
    struct at_stats s;
    at_stats_init(&s);
    at_finish(w->dc, &s);
    return s;
}
