/*
 * sim_rx.c - receivers for event-driven models (sim_rx.h): an actor per
 * endpoint looping on port_transport_recv and calling the model back.
 */
#include <stdio.h>
#include <stdlib.h>

#include <simgrid/actor.h>

#include "sim_rx.h"
#include "sim_world.h"

struct rx_one {
    struct sim_rx *rx;
    char name[SIM_TRANSPORT_NAME_MAX];
};

struct sim_rx {
    struct sim_transport *tr;
    sim_rx_fn fn;
    void *arg;
    struct rx_one *one;
    int n, max, live;
    struct sim_waitq *wq;                /* woken when a receiver ends */
};

struct sim_rx *sim_rx_new(struct sim_transport *tr, int max, sim_rx_fn fn, void *arg,
                          struct vm_diag *d)
{
    struct sim_rx *rx = calloc(1, sizeof *rx);
    if (rx) {
        rx->one = calloc(max > 0 ? (size_t)max : 1, sizeof *rx->one);
        rx->wq = sim_waitq_new();
    }
    if (!rx || !rx->one || !rx->wq) {
        sim_rx_free(rx);
        vm_diag_set(d, VM_ENOMEM, "out of memory (receivers)");
        return NULL;
    }
    rx->tr = tr;
    rx->fn = fn;
    rx->arg = arg;
    rx->max = max;
    return rx;
}

static void rx_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct rx_one *r = sg_actor_self_get_data();
    struct sim_rx *rx = r->rx;
    struct port_transport *port = sim_transport_port(rx->tr);
    for (;;) {
        struct port_transport_msg m;
        if (port_transport_recv(port, r->name, PORT_TRANSPORT_FOREVER, &m) < 0)
            break;
        bool stop = m.tag == SIM_RX_STOP;
        if (!stop)
            rx->fn(rx->arg, r->name, &m);
        port_transport_msg_free(&m);
        if (stop)
            break;
    }
    rx->live--;
    sim_waitq_wake_all(rx->wq);
}

int sim_rx_endpoint(struct sim_rx *rx, const char *name, sg_host_t on, struct vm_diag *d)
{
    if (rx->n >= rx->max)
        return vm_diag_set(d, VM_ENOSPC, "too many receivers (%d)", rx->max);
    int rc = sim_transport_endpoint(rx->tr, name, on, d);
    if (rc)
        return rc;
    struct rx_one *r = &rx->one[rx->n++];
    r->rx = rx;
    snprintf(r->name, sizeof r->name, "%s", name);
    char an[SIM_TRANSPORT_NAME_MAX + 3];
    snprintf(an, sizeof an, "rx-%s", name);
    sg_actor_t a = sg_actor_init(an, on);
    sg_actor_set_data(a, r);
    rx->live++;
    sg_actor_start(a, rx_main, 0, NULL);
    return 0;
}

void sim_rx_stop(struct sim_rx *rx, const char *from)
{
    struct port_transport *port = sim_transport_port(rx->tr);
    struct port_transport_out stop = { .tag = SIM_RX_STOP, .wire_bytes = 0 };
    for (int i = 0; i < rx->n; i++)
        (void)port_transport_send(port, from, rx->one[i].name, &stop, 0);
    while (rx->live > 0)
        sim_waitq_wait(rx->wq);
}

void sim_rx_free(struct sim_rx *rx)
{
    if (!rx)
        return;
    if (rx->wq)
        sim_waitq_free(rx->wq);
    free(rx->one);
    free(rx);
}
