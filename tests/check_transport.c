/*
 * check_transport.c - suite "transport": the transport port on SimGrid
 * (sim/sim_transport.c): a message's time (latency + wire bytes /
 * bandwidth under CM02), blob and wire size apart, ordering per pair,
 * request/reply with several calls in flight sharing the link, a page
 * request beside a push stream, F_WAIT, timeouts and late replies, more
 * messages than carriers, freeing with messages in flight, the two-host
 * platforms, and bad input.  The fault hooks: check_transport_faults.c.
 *
 * As in check_disk_*, every test runs in its own process (SimGrid runs once
 * per process): it loads a platform, runs actors, and asserts on what
 * they recorded once simgrid_run() has returned (tests/transport_rig.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_platform.h"
#include "sim_world.h"
#include "transport_rig.h"

/* ---- timing ---- */

static void send_1mb(void)
{
    uint64_t x = 42;
    struct port_transport_out o = out_of(7, &x, sizeof(x), 1000000);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    t_done[0] = sim_now_ns();            /* send does not wait */
}

START_TEST(test_transport_message_costs_latency_plus_wire_bytes_over_bandwidth)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    spawn("s", "host0", send_1mb);
    spawn("r", "host1", recv_one);
    simgrid_run();
    ck_assert_uint_eq(t_done[0], 0);
    ck_assert_int_eq(nr_seen, 1);
    ck_assert_int_eq(seen[0].kind, PORT_TRANSPORT_MSG);
    ck_assert_uint_eq(seen[0].tag, 7);
    ck_assert_str_eq(seen[0].from, "a");
    ck_assert_uint_eq(seen[0].blob_len, 8);
    ck_assert_uint_eq(*(uint64_t *)seen[0].blob, 42);
    ck_assert_uint_eq(seen[0].wire_bytes, 1000000);
    ck_assert_uint_eq(seen[0].sent_ns, 0);
    ck_assert_uint_eq(seen[0].recv_ns, xfer_ns(1000000));    /* 345 us */
    ck_assert_uint_eq(sim_transport_stats(tr)->wire_bytes, 1000000);
    uint64_t sent, got;
    ck_assert_int_eq(sim_transport_endpoint_bytes(tr, "b", &sent, &got), 0);
    ck_assert_uint_eq(got, 1000000);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

/* A post-copy reply: 8 pages on the wire, 8 frame numbers in the blob. */
static void send_pages(void)
{
    uint64_t frames[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct port_transport_out o = out_of(1, frames, sizeof(frames), 8 * 4096);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    struct port_transport_out z = out_of(2, NULL, 0, 0);
    ck_assert_int_eq(port_transport_send(pt, "a", "c", &z, 0), 0);
}

static void recv_c(void)
{
    struct port_transport_msg m;
    ck_assert_int_eq(port_transport_recv(pt, "c", FOREVER, &m), 0);
    keep(&m);
}

START_TEST(test_transport_wire_size_is_charged_not_blob_size)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    endpoint("c", "host1");
    spawn("s", "host0", send_pages);
    spawn("r", "host1", recv_one);
    spawn("rc", "host1", recv_c);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 2);
    const struct port_transport_msg *pages = seen[0].tag == 1 ? &seen[0] : &seen[1];
    const struct port_transport_msg *empty = seen[0].tag == 1 ? &seen[1] : &seen[0];
    ck_assert_uint_eq(pages->blob_len, 64);
    ck_assert_uint_eq(((uint64_t *)pages->blob)[7], 8);
    /* both in flight at once until the empty one lands at 25 us: it used no
     * bandwidth, so the pages had the link alone */
    ck_assert_uint_eq(pages->recv_ns, xfer_ns(8 * 4096));
    ck_assert_ptr_null(empty->blob);
    ck_assert_uint_eq(empty->recv_ns, LAT_NS);             /* 0 bytes: latency only */
    forget_all();
    sim_transport_free(tr);
}
END_TEST

START_TEST(test_transport_same_host_endpoints_use_loopback)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host0");
    spawn("s", "host0", send_1mb);
    spawn("r", "host0", recv_one);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 1);
    ck_assert_uint_lt(seen[0].recv_ns, xfer_ns(1000000));  /* no link crossed */
    forget_all();
    sim_transport_free(tr);
}
END_TEST

/* ---- ordering ---- */

static void send_big_small(void)
{
    struct port_transport_out big = out_of(1, NULL, 0, 10000000);
    struct port_transport_out small = out_of(2, NULL, 0, 1);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &big, 0), 0);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &small, 0), 0);
    ck_assert_int_eq(port_transport_send(pt, "a2", "c", &small, 0), 0);
}

static void recv_two(void)
{
    recv_one();
    recv_one();
}

START_TEST(test_transport_pair_delivers_in_send_order_other_pairs_do_not_wait)
{
    world(1);
    endpoint("a", "host0");
    endpoint("a2", "host0");
    endpoint("b", "host1");
    endpoint("c", "host1");
    spawn("s", "host0", send_big_small);
    spawn("r", "host1", recv_two);
    spawn("rc", "host1", recv_c);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 3);
    /* the small message on the other pair arrived first */
    ck_assert_str_eq(seen[0].from, "a2");
    ck_assert_uint_lt(seen[0].recv_ns, 26000);
    /* on (a, b): big then small, the small one held behind the big one */
    ck_assert_uint_eq(seen[1].tag, 1);
    ck_assert_uint_eq(seen[2].tag, 2);
    ck_assert_uint_eq(seen[2].recv_ns, seen[1].recv_ns);
    ck_assert_uint_gt(seen[1].recv_ns, xfer_ns(10000000) - 10);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

/* ---- request / reply ---- */

#define NR_CLIENTS 4
static const char *const clients[NR_CLIENTS] = { "v0", "v1", "v2", "v3" };
static uint64_t reply_wire = 1000000;
static uint64_t reply_ids[NR_CLIENTS];

static void server(void)
{
    for (int i = 0; i < NR_CLIENTS; i++) {
        struct port_transport_msg req;
        ck_assert_int_eq(port_transport_recv(pt, "src", FOREVER, &req), 0);
        ck_assert_int_eq(req.kind, PORT_TRANSPORT_REQUEST);
        ck_assert_uint_ne(req.id, 0);
        /* echo the client's number: each call must get its own answer */
        struct port_transport_out rep = out_of(9, req.blob, req.blob_len, reply_wire);
        ck_assert_int_eq(port_transport_reply(pt, "src", &req, &rep), 0);
        port_transport_msg_free(&req);
    }
}

static void client(void)
{
    const char *me = sg_actor_get_name(sg_actor_self());
    int k = me[1] - '0';
    uint32_t who = (uint32_t)k;
    struct port_transport_out req = out_of(3, &who, sizeof(who), 64);
    struct port_transport_msg rep;
    rcs[k] = port_transport_call(pt, clients[k], "src", &req, FOREVER, &rep);
    t_done[k] = sim_now_ns();
    ck_assert_int_eq(rcs[k], 0);
    ck_assert_int_eq(rep.kind, PORT_TRANSPORT_REPLY);
    ck_assert_uint_eq(*(uint32_t *)rep.blob, who);
    reply_ids[k] = rep.id;
    port_transport_msg_free(&rep);
}

START_TEST(test_transport_concurrent_calls_each_get_their_reply_and_share_bandwidth)
{
    world(1);
    endpoint("src", "host0");
    for (int i = 0; i < NR_CLIENTS; i++)
        endpoint(clients[i], "host1");
    spawn("server", "host0", server);
    for (int i = 0; i < NR_CLIENTS; i++)
        spawn(clients[i], "host1", client);
    simgrid_run();
    /* 4 requests of 64 B share the way there, 4 replies of 1 MB the way
     * back: each call takes 2 latencies + 4 x 64 B + 4 x 1 MB at 3.125 GB/s */
    uint64_t expect = 2 * LAT_NS + (uint64_t)((4 * 64 + 4 * 1e6) / BPS * 1e9 + 0.5);
    for (int i = 0; i < NR_CLIENTS; i++) {
        ck_assert_int_eq(rcs[i], 0);
        ck_assert_msg(t_done[i] + 5 >= expect && t_done[i] <= expect + 5,
                      "call %d took %llu ns, expected %llu", i,
                      (unsigned long long)t_done[i], (unsigned long long)expect);
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(reply_ids[i], reply_ids[j]);
    }
    const struct sim_transport_stats *st = sim_transport_stats(tr);
    ck_assert_uint_eq(st->calls, 4);
    ck_assert_uint_eq(st->sent, 8);
    ck_assert_uint_eq(st->delivered, 8);
    ck_assert_uint_eq(st->call_timeouts, 0);
    sim_transport_free(tr);
}
END_TEST

/* A push stream (one 10 MB message at a time, F_WAIT) from host0 while a
 * vCPU on host1 asks for one 4 KiB page at 1 ms: the request goes the
 * other way (full duplex), the page reply shares the link with the push. */
static int push_running = 1;

static void pusher(void)
{
    struct port_transport_out o = out_of(5, NULL, 0, 10000000);
    while (push_running) {
        ck_assert_int_eq(port_transport_send(pt, "push", "pushd", &o, PORT_TRANSPORT_F_WAIT), 0);
        t_done[1]++;
    }
}

static void push_sink(void)
{
    struct port_transport_msg m;
    while (port_transport_recv(pt, "pushd", 50000000, &m) == 0)
        port_transport_msg_free(&m);
}

static void page_server(void)
{
    struct port_transport_msg req;
    ck_assert_int_eq(port_transport_recv(pt, "src", FOREVER, &req), 0);
    struct port_transport_out rep = out_of(9, NULL, 0, 4096);
    ck_assert_int_eq(port_transport_reply(pt, "src", &req, &rep), 0);
    port_transport_msg_free(&req);
}

static void page_vcpu(void)
{
    sim_sleep_ns(1000000);
    struct port_transport_out req = out_of(3, NULL, 0, 64);
    struct port_transport_msg rep;
    uint64_t t0 = sim_now_ns();
    rcs[0] = port_transport_call(pt, "dst", "src", &req, FOREVER, &rep);
    t_done[0] = sim_now_ns() - t0;
    push_running = 0;
}

START_TEST(test_transport_page_request_shares_link_with_push_stream)
{
    world(1);
    endpoint("src", "host0");
    endpoint("push", "host0");
    endpoint("dst", "host1");
    endpoint("pushd", "host1");
    spawn("pusher", "host0", pusher);
    spawn("sink", "host1", push_sink);
    spawn("server", "host0", page_server);
    spawn("vcpu", "host1", page_vcpu);
    simgrid_run();
    ck_assert_int_eq(rcs[0], 0);
    /* request alone on its direction; the 4 KiB reply gets half the link */
    uint64_t expect = xfer_ns(64) + LAT_NS + (uint64_t)(4096 / (BPS / 2) * 1e9 + 0.5);
    ck_assert_msg(t_done[0] + 5 >= expect && t_done[0] <= expect + 5, "call took %llu, expected %llu",
                  (unsigned long long)t_done[0], (unsigned long long)expect);
    ck_assert_uint_ge(t_done[1], 1);           /* the push stream was flowing */
    sim_transport_free(tr);
}
END_TEST

/* F_WAIT returns at delivery, a plain send at once. */
static void send_wait(void)
{
    struct port_transport_out o = out_of(1, NULL, 0, 1000000);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, PORT_TRANSPORT_F_WAIT), 0);
    t_done[0] = sim_now_ns();
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    t_done[1] = sim_now_ns();
}

START_TEST(test_transport_wait_flag_returns_after_delivery)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    spawn("s", "host0", send_wait);
    spawn("r", "host1", recv_two);
    simgrid_run();
    ck_assert_uint_eq(t_done[0], xfer_ns(1000000));
    ck_assert_uint_eq(t_done[1], t_done[0]);
    ck_assert_int_eq(nr_seen, 2);
    ck_assert_uint_eq(seen[1].recv_ns, 2 * xfer_ns(1000000));
    forget_all();
    sim_transport_free(tr);
}
END_TEST

/* ---- timeouts ---- */

static void call_nobody(void)
{
    struct port_transport_out req = out_of(3, NULL, 0, 64);
    struct port_transport_msg rep = { .tag = 77 };
    rcs[0] = port_transport_call(pt, "dst", "src", &req, 1000000, &rep);
    t_done[0] = sim_now_ns();
    ck_assert_uint_eq(rep.tag, 77);            /* untouched */
    struct port_transport_msg m;
    rcs[1] = port_transport_recv(pt, "dst", 0, &m);
    t_done[1] = sim_now_ns();
    rcs[2] = port_transport_recv(pt, "dst", 3000, &m);
    t_done[2] = sim_now_ns();
}

START_TEST(test_transport_call_and_recv_time_out_at_their_deadline)
{
    world(1);
    endpoint("src", "host0");
    endpoint("dst", "host1");
    spawn("vcpu", "host1", call_nobody);
    simgrid_run();
    ck_assert_int_eq(rcs[0], VM_ETIMEDOUT);
    ck_assert_uint_eq(t_done[0], 1000000);
    ck_assert_int_eq(rcs[1], VM_ETIMEDOUT);    /* no wait */
    ck_assert_uint_eq(t_done[1], 1000000);
    ck_assert_int_eq(rcs[2], VM_ETIMEDOUT);
    ck_assert_uint_eq(t_done[2], 1003000);
    ck_assert_uint_eq(sim_transport_stats(tr)->call_timeouts, 1);
    sim_transport_free(tr);
}
END_TEST

static void slow_server(void)
{
    struct port_transport_msg req;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(port_transport_recv(pt, "src", FOREVER, &req), 0);
        if (i == 0)
            sim_sleep_ns(2000000);             /* answers the first after its timeout */
        struct port_transport_out rep = out_of((uint32_t)i, NULL, 0, 4096);
        ck_assert_int_eq(port_transport_reply(pt, "src", &req, &rep), 0);
        port_transport_msg_free(&req);
    }
}

static void impatient(void)
{
    struct port_transport_out req = out_of(3, NULL, 0, 64);
    struct port_transport_msg rep;
    rcs[0] = port_transport_call(pt, "dst", "src", &req, 1000000, &rep);
    rcs[1] = port_transport_call(pt, "dst", "src", &req, 10000000, &rep);
    ck_assert_int_eq(rcs[1], 0);
    /* the first reply arrived late and was dropped: this is the second */
    ck_assert_uint_eq(rep.tag, 1);
    port_transport_msg_free(&rep);
}

START_TEST(test_transport_late_reply_is_dropped_not_given_to_next_call)
{
    world(1);
    endpoint("src", "host0");
    endpoint("dst", "host1");
    spawn("server", "host0", slow_server);
    spawn("vcpu", "host1", impatient);
    simgrid_run();
    ck_assert_int_eq(rcs[0], VM_ETIMEDOUT);
    ck_assert_int_eq(rcs[1], 0);
    ck_assert_uint_eq(sim_transport_stats(tr)->late_replies, 1);
    sim_transport_free(tr);
}
END_TEST

/* ---- scale and teardown ---- */

static void send_100(void)
{
    send_n(100, "a", "b");
}

START_TEST(test_transport_more_messages_than_carriers_all_arrive_in_order)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    spawn("s", "host0", send_100);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 100);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(seen[i].tag, (uint32_t)i);
    const struct sim_transport_stats *st = sim_transport_stats(tr);
    ck_assert_uint_eq(st->carriers, SIM_TRANSPORT_MAX_CARRIERS);
    ck_assert_uint_eq(st->queued_for_carrier, 100 - SIM_TRANSPORT_MAX_CARRIERS);
    /* 100 x 1000 B shared: the last lands after all the bytes went */
    ck_assert_uint_ge(seen[99].recv_ns, xfer_ns(100 * 1000) - 10);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

static void send_and_free(void)
{
    uint64_t blob[4] = { 0 };
    struct port_transport_out o = out_of(1, blob, sizeof(blob), 10000000);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    sim_sleep_ns(1000);
    sim_transport_free(tr);      /* three in flight: freed when carried */
    tr = NULL;
}

START_TEST(test_transport_free_with_messages_in_flight_leaks_nothing)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    spawn("s", "host0", send_and_free);
    simgrid_run();
    ck_assert_ptr_null(tr);
}
END_TEST

/* ---- platforms ---- */

START_TEST(test_transport_two_host_platforms_pass_the_platform_check)
{
    const char *files[] = { "hosts2-nvme-25g.xml", "hosts2-nvme-10g.xml", "host-nvme.xml" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        struct vm_diag d;
        enum sim_platform_part part;
        struct sim_platform_info info;
        vm_diag_clear(&d);
        platform_path(path, sizeof(path), files[i]);
        ck_assert_msg(sim_platform_check(path, "", "", 0, NULL, &part, &info, &d) == 0,
                      "%s: %s", files[i], d.msg);
        ck_assert_uint_eq(info.host_cores, 16);
    }
}
END_TEST

/* ---- bad input ---- */

static void bad_calls(void)
{
    uint64_t x = 0;
    struct port_transport_out ok = out_of(1, &x, sizeof(x), 8);
    struct port_transport_out nullblob = out_of(1, NULL, 8, 8);
    struct port_transport_msg m = { .kind = PORT_TRANSPORT_MSG, .from = "b" };
    ck_assert_int_eq(port_transport_send(pt, "a", "nobody", &ok, 0), VM_ENOENT);
    ck_assert_int_eq(port_transport_send(pt, "nobody", "b", &ok, 0), VM_ENOENT);
    ck_assert_int_eq(port_transport_send(pt, NULL, "b", &ok, 0), VM_ENOENT);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", NULL, 0), VM_EINVAL);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &nullblob, 0), VM_EINVAL);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &ok, 0x80), VM_EINVAL);
    ck_assert_int_eq(port_transport_send(pt, "a", "island", &ok, 0), VM_ENOENT);  /* no route */
    ck_assert_int_eq(port_transport_recv(pt, "nobody", 0, &m), VM_ENOENT);
    ck_assert_int_eq(port_transport_recv(pt, "a", 0, NULL), VM_EINVAL);
    ck_assert_int_eq(port_transport_reply(pt, "a", &m, &ok), VM_EINVAL);   /* not a request */
    ck_assert_int_eq(port_transport_reply(pt, "a", NULL, &ok), VM_EINVAL);
    struct port_transport_msg rep;
    ck_assert_int_eq(port_transport_call(pt, "a", "b", &nullblob, 1000, &rep), VM_EINVAL);
    ck_assert_int_eq(port_transport_call(pt, "a", "b", &ok, 1000, NULL), VM_EINVAL);
    ck_assert_int_eq(port_transport_call(pt, "a", "island", &ok, 1000, &rep), VM_ENOENT);
    ck_assert_uint_eq(sim_now_ns(), 0);          /* nothing waited */
    rcs[0] = 1;
}

START_TEST(test_transport_bad_input_refused_and_nothing_sent)
{
    char xml[] =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
        "<host id=\"h0\" speed=\"1Gf\"/><host id=\"h1\" speed=\"1Gf\"/>"
        "<host id=\"h2\" speed=\"1Gf\"/>\n"
        "<link id=\"l\" bandwidth=\"1GBps\" latency=\"10us\"/>\n"
        "<route src=\"h0\" dst=\"h1\"><link_ctn id=\"l\"/></route>\n"
        "</zone></platform>\n";
    char path[] = "/tmp/check_transport_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
    close(fd);
    struct vm_diag d;
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    int rc = sim_world_load_platform(path, &d);
    unlink(path);
    ck_assert_msg(rc == 0, "%s", d.msg);
    tr = sim_transport_new(1, &d);
    pt = sim_transport_port(tr);
    endpoint("a", "h0");
    endpoint("b", "h1");
    endpoint("island", "h2");

    char longname[SIM_TRANSPORT_NAME_MAX + 1];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_transport_endpoint(tr, "a", sg_host_by_name("h1"), &d), VM_EBUSY);
    ck_assert_ptr_nonnull(strstr(d.msg, "'a'"));
    ck_assert_int_eq(sim_transport_endpoint(tr, "", sg_host_by_name("h1"), NULL), VM_EINVAL);
    ck_assert_int_eq(sim_transport_endpoint(tr, longname, sg_host_by_name("h1"), NULL),
                     VM_EINVAL);
    ck_assert_int_eq(sim_transport_endpoint(tr, "c", NULL, NULL), VM_EINVAL);

    struct sim_transport_fault f = { .loss = 1.5 };
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_transport_add_fault(tr, &f, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "'loss'"));
    f = (struct sim_transport_fault){ .from_ns = 10, .until_ns = 10 };
    ck_assert_int_eq(sim_transport_add_fault(tr, &f, NULL), VM_EINVAL);
    f = (struct sim_transport_fault){ .to = "nobody" };
    ck_assert_int_eq(sim_transport_add_fault(tr, &f, NULL), VM_EINVAL);
    f = (struct sim_transport_fault){ .delay_ns = 1 };
    for (int i = 0; i < SIM_TRANSPORT_MAX_FAULTS; i++)
        ck_assert_int_eq(sim_transport_add_fault(tr, &f, NULL), 0);
    ck_assert_int_eq(sim_transport_add_fault(tr, &f, NULL), VM_ENOSPC);
    uint64_t s, r;
    ck_assert_int_eq(sim_transport_endpoint_bytes(tr, "nobody", &s, &r), VM_ENOENT);

    spawn("bad", "h0", bad_calls);
    simgrid_run();
    ck_assert_int_eq(rcs[0], 1);
    ck_assert_uint_eq(sim_transport_stats(tr)->sent, 0);
    sim_transport_free(tr);
}
END_TEST

static Suite *transport_suite(void)
{
    Suite *s = suite_create("transport");
    TCase *tc = tcase_create("timing");
    tcase_set_timeout(tc, 60);   /* small simulations, but on a shared machine */
    tcase_add_test(tc, test_transport_message_costs_latency_plus_wire_bytes_over_bandwidth);
    tcase_add_test(tc, test_transport_wire_size_is_charged_not_blob_size);
    tcase_add_test(tc, test_transport_same_host_endpoints_use_loopback);
    tcase_add_test(tc, test_transport_pair_delivers_in_send_order_other_pairs_do_not_wait);
    tcase_add_test(tc, test_transport_wait_flag_returns_after_delivery);
    suite_add_tcase(s, tc);
    tc = tcase_create("calls");
    tcase_set_timeout(tc, 60);   /* small simulations, but on a shared machine */
    tcase_add_test(tc, test_transport_concurrent_calls_each_get_their_reply_and_share_bandwidth);
    tcase_add_test(tc, test_transport_page_request_shares_link_with_push_stream);
    tcase_add_test(tc, test_transport_call_and_recv_time_out_at_their_deadline);
    tcase_add_test(tc, test_transport_late_reply_is_dropped_not_given_to_next_call);
    suite_add_tcase(s, tc);
    tc = tcase_create("scale_and_input");
    tcase_set_timeout(tc, 60);   /* small simulations, but on a shared machine */
    tcase_add_test(tc, test_transport_more_messages_than_carriers_all_arrive_in_order);
    tcase_add_test(tc, test_transport_free_with_messages_in_flight_leaks_nothing);
    tcase_add_test(tc, test_transport_two_host_platforms_pass_the_platform_check);
    tcase_add_test(tc, test_transport_bad_input_refused_and_nothing_sent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(transport_suite());
    /* SimGrid runs once per process: each test in its own */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

