/*
 * transport_rig.c - the SimGrid transport suites' shared world, actors
 * and records (see transport_rig.h).
 */
#include "transport_rig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>

#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

uint64_t xfer_ns(uint64_t bytes)
{
    return LAT_NS + (uint64_t)((double)bytes / BPS * 1e9 + 0.5);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s != NULL && s[0] != '\0' ? s : VMSIM_SRCDIR;
}

void platform_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/workloads/platforms/%s", srcdir(), file);
}

struct sim_transport *tr;
struct port_transport *pt;

/* SimGrid on the shipped two-host platform; a transport with seed. */
void world(uint64_t seed)
{
    char path[512];
    struct vm_diag d;
    vm_diag_clear(&d);
    platform_path(path, sizeof(path), "hosts2-nvme-25g.xml");
    /* small actor stacks: carriers are many, and under ASan each stack
     * costs its size in poisoning when the actor starts */
    static char stack[] = "--cfg=contexts/stack-size:128";
    char *opts[] = { stack };
    sim_world_init_options(1, opts);
    ck_assert_msg(sim_world_load_platform(path, &d) == 0, "%s", d.msg);
    tr = sim_transport_new(seed, &d);
    ck_assert_ptr_nonnull(tr);
    pt = sim_transport_port(tr);
}

void endpoint(const char *name, const char *host)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(sim_transport_endpoint(tr, name, sg_host_by_name(host), &d) == 0, "%s", d.msg);
}

static void trampoline(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    void (*fn)(void) = (void (*)(void))sg_actor_self_get_data();
    fn();
}

void spawn(const char *name, const char *host, void (*fn)(void))
{
    sg_actor_t a = sg_actor_init(name, sg_host_by_name(host));
    sg_actor_set_data(a, (void *)fn);
    sg_actor_start(a, trampoline, 0, NULL);
}

struct port_transport_out out_of(uint32_t tag, const void *blob, size_t len,
                                        uint64_t wire)
{
    struct port_transport_out o = { .tag = tag, .blob = blob, .blob_len = len,
                                    .wire_bytes = wire };
    return o;
}

/* What the actors saw, asserted after the run. */
struct port_transport_msg seen[MAX_SEEN];
int nr_seen;
uint64_t t_done[16];
int rcs[16];

void keep(struct port_transport_msg *m)
{
    ck_assert_int_lt(nr_seen, MAX_SEEN);
    seen[nr_seen++] = *m;
}

void forget_all(void)
{
    for (int i = 0; i < nr_seen; i++)
        port_transport_msg_free(&seen[i]);
    nr_seen = 0;
}

void add_fault(const struct sim_transport_fault *f)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(sim_transport_add_fault(tr, f, &d) == 0, "%s", d.msg);
}

void recv_one(void)
{
    struct port_transport_msg m;
    ck_assert_int_eq(port_transport_recv(pt, "b", FOREVER, &m), 0);
    keep(&m);
}

void drain_b(void)
{
    struct port_transport_msg m;
    while (port_transport_recv(pt, "b", 10000000, &m) == 0)
        keep(&m);
}

void send_n(int n, const char *from, const char *to)
{
    for (int i = 0; i < n; i++) {
        struct port_transport_out o = out_of((uint32_t)i, NULL, 0, 1000);
        ck_assert_int_eq(port_transport_send(pt, from, to, &o, 0), 0);
    }
}
