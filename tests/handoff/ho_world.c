/*
 * ho_world.c - the handoff unit tests' world (ho_world.h): a transport and
 * a block device over the fake timer, with message drops and a send log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_world.h"

struct delivery {
    struct ho_world *w;
    char to[16];
    struct port_transport_msg m;
};

static void deliver(void *arg)
{
    struct delivery *dv = arg;
    if (dv->w->c)
        ho_deliver(dv->w->c, dv->to, &dv->m);
    free(dv->m.blob);
    free(dv);
}

static bool cut(const struct ho_world *w, const char *from, const char *to, uint64_t now)
{
    for (int i = 0; i < w->nr_cuts; i++) {
        const struct ho_world_cut *k = &w->cuts[i];
        bool match = (!strcmp(k->a, from) && !strcmp(k->b, to)) ||
                     (!strcmp(k->a, to) && !strcmp(k->b, from));
        if (match && now >= k->from_ns && now < k->until_ns)
            return true;
    }
    return false;
}

static int w_send(struct port_transport *t, const char *from, const char *to,
                  const struct port_transport_out *m, unsigned flags)
{
    (void)flags;
    struct ho_world *w = (struct ho_world *)((char *)t - offsetof(struct ho_world, net));
    uint64_t now = w->clk.now_ns;
    w->sent++;
    if (m->tag < 32)
        w->type_count[m->tag]++;
    bool drop = (w->drop_nth && w->sent == w->drop_nth) ||
                (w->drop_type && (int)m->tag == w->drop_type) || cut(w, from, to, now);
    if (w->log_len == w->log_cap) {
        size_t cap = w->log_cap ? 2 * w->log_cap : 256;
        struct ho_world_sent *p = realloc(w->log, cap * sizeof *p);
        if (!p)
            abort();                 /* a test helper: no memory is fatal */
        w->log = p;
        w->log_cap = cap;
    }
    struct ho_world_sent *e = &w->log[w->log_len++];
    memset(e, 0, sizeof *e);
    e->t_ns = now;
    e->nr = w->sent;
    e->type = (int)m->tag;
    snprintf(e->from, sizeof e->from, "%s", from);
    snprintf(e->to, sizeof e->to, "%s", to);
    e->dropped = drop;
    memcpy(&e->m, m->blob, m->blob_len < sizeof e->m ? m->blob_len : sizeof e->m);
    if (drop) {
        w->dropped++;
        return 0;
    }
    struct delivery *dv = calloc(1, sizeof *dv);
    dv->w = w;
    snprintf(dv->to, sizeof dv->to, "%s", to);
    dv->m.kind = PORT_TRANSPORT_MSG;
    dv->m.tag = m->tag;
    dv->m.blob = malloc(m->blob_len);
    memcpy(dv->m.blob, m->blob, m->blob_len);
    dv->m.blob_len = m->blob_len;
    dv->m.wire_bytes = m->wire_bytes;
    dv->m.sent_ns = now;
    dv->m.recv_ns = now + w->lat_ns;
    port_timer_arm(fake_timer_port(w->ft), now + w->lat_ns, deliver, dv);
    return 0;
}

static const struct port_transport_ops net_ops = { .version = PORT_TRANSPORT_VERSION,
                                                   .name = "ho-world", .send = w_send };

static void io_done(void *arg)
{
    struct port_blk_req *req = arg;
    req->cb(req, 0);
}

static int w_submit(struct port_blk *dev, struct port_blk_req *req)
{
    struct ho_world *w = (struct ho_world *)((char *)dev - offsetof(struct ho_world, dev));
    req->submit_ns = w->clk.now_ns;
    req->done_ns = w->clk.now_ns + w->io_ns;
    port_timer_arm(fake_timer_port(w->ft), req->done_ns, io_done, req);
    return 0;
}

static uint64_t w_nr_blocks(const struct port_blk *dev)
{
    (void)dev;
    return 1u << 20;
}

static const struct port_blk_ops blk_ops = { .version = PORT_BLK_VERSION, .name = "ho-world",
                                             .submit = w_submit, .nr_blocks = w_nr_blocks };

struct ho_world *ho_world_new(const struct ho_cfg *cfg, uint64_t seed)
{
    struct ho_world *w = calloc(1, sizeof *w);
    fake_clock_init(&w->clk, 0);
    w->ft = fake_timer_new(&w->clk);
    w->net.ops = &net_ops;
    w->dev.ops = &blk_ops;
    w->lat_ns = 100000;
    w->io_ns = 200000;
    struct ho_ports p = { .clock = &w->clk.base, .timer = fake_timer_port(w->ft),
                          .net = &w->net, .ds_dev = &w->dev };
    struct vm_diag d = { 0 };
    w->c = ho_cluster_new(cfg, &p, 1, seed, &d);
    if (!w->c) {
        fake_timer_free(w->ft);
        free(w);
        return NULL;
    }
    return w;
}

void ho_world_free(struct ho_world *w)
{
    if (!w)
        return;
    /* the cluster cancels its timers; its datastore I/Os in flight keep it
     * until they complete (then it goes); messages in flight find no
     * cluster */
    ho_cluster_free(w->c);
    w->c = NULL;
    fake_timer_run_until(w->ft, w->clk.now_ns + 10 * w->io_ns + 10 * w->lat_ns);
    fake_timer_free(w->ft);
    free(w->log);
    free(w);
}

void ho_world_run_until(struct ho_world *w, uint64_t t_ns)
{
    fake_timer_run_until(w->ft, t_ns);
}

struct ho_stats ho_world_finish(struct ho_world *w)
{
    struct ho_stats s;
    ho_stats_init(&s);
    ho_finish(w->c, &s);
    return s;
}

uint64_t ho_world_run_until_quiet(struct ho_world *w, uint64_t limit_ns)
{
    while (!ho_quiet(w->c)) {
        if (w->clk.now_ns >= limit_ns || !fake_timer_run_next(w->ft))
            return UINT64_MAX;
    }
    return w->clk.now_ns;
}

size_t ho_world_count_sent(const struct ho_world *w, int type, const char *from, const char *to,
                           uint64_t after_ns, uint64_t before_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < w->log_len; i++) {
        const struct ho_world_sent *e = &w->log[i];
        if ((!type || e->type == type) && (!from || !strcmp(e->from, from)) &&
            (!to || !strcmp(e->to, to)) && e->t_ns >= after_ns && e->t_ns < before_ns)
            n++;
    }
    return n;
}

void ho_world_cut(struct ho_world *w, const char *a, const char *b, uint64_t from_ns,
                  uint64_t until_ns)
{
    struct ho_world_cut *k = &w->cuts[w->nr_cuts++];
    snprintf(k->a, sizeof k->a, "%s", a);
    snprintf(k->b, sizeof k->b, "%s", b);
    k->from_ns = from_ns;
    k->until_ns = until_ns;
}

struct ho_cfg ho_world_cfg(uint32_t nr_hosts, uint32_t nr_disks, enum ho_method m)
{
    static struct ho_disk_cfg disks[64];
    for (uint32_t d = 0; d < nr_disks && d < 64; d++) {
        disks[d].holder_host = d % nr_hosts;
        disks[d].holder = HO_HOLD_VM;
        for (uint32_t k = 0; k < HO_MAX_ACTORS; k++)
            disks[d].actors[k] = k < nr_hosts && k < 3 ? (d + k) % nr_hosts : HO_NONE;
    }
    struct ho_cfg cfg = { .nr_hosts = nr_hosts, .nr_disks = nr_disks, .disks = disks,
                          .write_interval_ns = 100000000, .blocks_per_disk = 16,
                          .write_bytes = 4096, .msg_bytes = 256, .ha = false,
                          .ha_detect_ns = 15000000000ull };
    ho_params_default(&cfg.params, m);
    return cfg;
}

struct ho_cfg ho_world_cfg_daemon(uint32_t nr_hosts, enum ho_method m)
{
    static struct ho_disk_cfg dk;
    struct ho_cfg cfg = ho_world_cfg(nr_hosts, 1, m);
    dk = (struct ho_disk_cfg){ .holder_host = nr_hosts - 1, .holder = HO_HOLD_DAEMON,
                               .actors = { nr_hosts - 1, HO_NONE, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    return cfg;
}
