/*
 * bench_transport.c - wall cost of the network transport on SimGrid
 * (sim/sim_transport.c), on the shipped two-host platform (25 Gb/s,
 * 25 us): post-copy-shaped page requests (8 vCPUs on host1, each calling
 * for one 4 KiB page at a time, one server on host0 replying) and a
 * stream of asynchronous 4 KiB messages host0 -> host1, all in flight
 * at once up to the carrier pool.  Reports wall microseconds per message
 * and the simulated time, and peak RSS.
 *
 * usage: bench_transport [NR_CALLS_PER_VCPU [NR_STREAM_MSGS]]   (defaults 20000, 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_transport.h"
#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define NR_VCPUS 8

static struct port_transport *pt;
static unsigned long nr_calls = 20000, nr_stream = 100000;
static int vcpus_left = NR_VCPUS;
static uint64_t calls_end_ns, stream_end_ns;

static void server(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct port_transport_msg req;
    struct port_transport_out rep = { .tag = 1, .wire_bytes = 4096 };
    while (port_transport_recv(pt, "src", 100000000, &req) == 0) {
        uint64_t fp = req.id;            /* a fingerprint in the blob */
        rep.blob = &fp;
        rep.blob_len = sizeof(fp);
        port_transport_reply(pt, "src", &req, &rep);
        port_transport_msg_free(&req);
    }
}

static void vcpu(int argc, char **argv)
{
    (void)argc;
    const char *me = argv[0];
    struct port_transport_out req = { .tag = 2, .wire_bytes = 64 };
    for (unsigned long i = 0; i < nr_calls; i++) {
        struct port_transport_msg rep;
        if (port_transport_call(pt, me, "src", &req, PORT_TRANSPORT_FOREVER, &rep) != 0)
            abort();
        port_transport_msg_free(&rep);
    }
    if (--vcpus_left == 0)
        calls_end_ns = sim_now_ns();
}

static void streamer(int argc, char **argv)
{
    (void)argc, (void)argv;
    sim_sleep_ns(calls_end_ns + 1000000);   /* after the calls: measured apart */
    while (calls_end_ns == 0)
        sim_sleep_ns(1000000);
    struct port_transport_out o = { .tag = 3, .wire_bytes = 4096 };
    for (unsigned long i = 0; i < nr_stream; i++)
        port_transport_send(pt, "push", "sink", &o, 0);
}

static void sink(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct port_transport_msg m;
    unsigned long n = 0;
    uint64_t t0 = 0;
    while (n < nr_stream && port_transport_recv(pt, "sink", PORT_TRANSPORT_FOREVER, &m) == 0) {
        if (n++ == 0)
            t0 = m.sent_ns;
    }
    stream_end_ns = sim_now_ns() - t0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nr_calls = strtoul(argv[1], NULL, 0);
    if (argc > 2)
        nr_stream = strtoul(argv[2], NULL, 0);
    const char *srcdir = getenv("VMSIM_SRCDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/workloads/platforms/hosts2-nvme-25g.xml",
             srcdir && srcdir[0] ? srcdir : VMSIM_SRCDIR);
    struct vm_diag d;
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    if (sim_world_load_platform(path, &d) != 0) {
        fprintf(stderr, "bench_transport: %s\n", d.msg);
        return 1;
    }
    struct sim_transport *tr = sim_transport_new(1, &d);
    sg_host_t h0 = sg_host_by_name("host0"), h1 = sg_host_by_name("host1");
    sim_transport_endpoint(tr, "src", h0, &d);
    sim_transport_endpoint(tr, "push", h0, &d);
    sim_transport_endpoint(tr, "sink", h1, &d);
    pt = sim_transport_port(tr);
    char names[NR_VCPUS][8];
    for (int i = 0; i < NR_VCPUS; i++) {
        snprintf(names[i], sizeof(names[i]), "v%d", i);
        sim_transport_endpoint(tr, names[i], h1, &d);
        char *av[] = { names[i], NULL };
        sg_actor_create(names[i], h1, vcpu, 1, av);
    }
    sg_actor_create("server", h0, server, 0, NULL);
    sg_actor_create("streamer", h0, streamer, 0, NULL);
    sg_actor_create("sink", h1, sink, 0, NULL);
    double t0 = now_s();
    simgrid_run();
    double secs = now_s() - t0;
    const struct sim_transport_stats *st = sim_transport_stats(tr);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("calls: %d vCPUs x %lu (64 B request, 4 KiB reply): simulated %.3f s, "
           "%.1f us per call each\n", NR_VCPUS, nr_calls, calls_end_ns / 1e9,
           calls_end_ns / 1e3 / (double)nr_calls);
    printf("stream: %lu x 4 KiB: simulated %.3f s (%.2f GB/s)\n", nr_stream,
           stream_end_ns / 1e9, nr_stream * 4096.0 / (stream_end_ns / 1e9) / 1e9);
    printf("messages %llu, carriers %llu, sends that waited for a carrier %llu\n",
           (unsigned long long)st->sent, (unsigned long long)st->carriers,
           (unsigned long long)st->queued_for_carrier);
    printf("wall %.2f s: %.2f us per message; peak RSS %ld MiB\n", secs,
           secs * 1e6 / (double)st->sent, ru.ru_maxrss / 1024);
    sim_transport_free(tr);
    return 0;
}
