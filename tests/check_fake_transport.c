/*
 * check_fake_transport.c - suite "fake_transport": the deterministic
 * transport fake (tests/fakes/fake_transport.h) that model-level tests
 * use: timing per pair, request/reply through a handler, timeouts, late
 * replies, loss and delay rules, the send log, and bad input.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "fakes/fake_transport.h"

#define LAT 25000ull
#define BPS 1e9                  /* 1 GB/s: 1 byte per ns */
#define FOREVER PORT_TRANSPORT_FOREVER

static struct fake_clock clk;
static struct fake_transport *ft;
static struct port_transport *pt;

static void setup(void)
{
    fake_clock_init(&clk, 0);
    ft = fake_transport_new(&clk, LAT, BPS, 5);
    ck_assert_ptr_nonnull(ft);
    pt = fake_transport_port(ft);
}

static void teardown(void)
{
    fake_transport_free(ft);
}

static struct port_transport_out out_of(uint32_t tag, const void *blob, size_t len, uint64_t wire)
{
    struct port_transport_out o = { .tag = tag, .blob = blob, .blob_len = len, .wire_bytes = wire };
    return o;
}

/* A page server: replies to a request for n frames with n x 4 KiB. */
static void page_server(void *data, struct port_transport *t, const char *self,
                        const struct port_transport_msg *m)
{
    int *served = data;
    ck_assert_int_eq(m->kind, PORT_TRANSPORT_REQUEST);
    uint32_t n = *(const uint32_t *)m->blob;
    struct port_transport_out rep = out_of(n, m->blob, m->blob_len, (uint64_t)n * 4096);
    ck_assert_int_eq(port_transport_reply(t, self, m, &rep), 0);
    (*served)++;
}

START_TEST(test_fake_transport_message_takes_latency_plus_bytes_over_rate)
{
    ck_assert_int_eq(fake_transport_endpoint(ft, "a", NULL, NULL), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "b", NULL, NULL), 0);
    uint64_t x = 99;
    struct port_transport_out o = out_of(4, &x, sizeof(x), 1000);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    ck_assert_uint_eq(clk.now_ns, 0);                     /* send does not wait */
    struct port_transport_msg m;
    ck_assert_int_eq(port_transport_recv(pt, "b", FOREVER, &m), 0);
    ck_assert_uint_eq(clk.now_ns, LAT + 1000);
    ck_assert_str_eq(m.from, "a");
    ck_assert_uint_eq(*(uint64_t *)m.blob, 99);
    port_transport_msg_free(&m);
    ck_assert_int_eq(port_transport_recv(pt, "b", FOREVER, &m), 0);
    ck_assert_uint_eq(clk.now_ns, LAT + 2000);            /* one stream per pair */
    port_transport_msg_free(&m);
    o = out_of(5, NULL, 0, 500);
    ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, PORT_TRANSPORT_F_WAIT), 0);
    ck_assert_uint_eq(clk.now_ns, LAT + 2000 + LAT + 500);
}
END_TEST

START_TEST(test_fake_transport_call_gets_reply_from_handler)
{
    int served = 0;
    ck_assert_int_eq(fake_transport_endpoint(ft, "src", page_server, &served), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "dst", NULL, NULL), 0);
    uint32_t n = 8;
    struct port_transport_out req = out_of(1, &n, sizeof(n), 64);
    struct port_transport_msg rep;
    ck_assert_int_eq(port_transport_call(pt, "dst", "src", &req, FOREVER, &rep), 0);
    ck_assert_int_eq(rep.kind, PORT_TRANSPORT_REPLY);
    ck_assert_uint_eq(rep.tag, 8);
    ck_assert_uint_eq(clk.now_ns, LAT + 64 + LAT + 8 * 4096);
    port_transport_msg_free(&rep);
    ck_assert_int_eq(served, 1);
    ck_assert_uint_eq(fake_transport_nr_sent(ft), 2);
    const struct fake_transport_sent *s0 = fake_transport_sent(ft, 0), *s1 = fake_transport_sent(ft, 1);
    ck_assert_int_eq(s0->kind, PORT_TRANSPORT_REQUEST);
    ck_assert_str_eq(s0->to, "src");
    ck_assert_int_eq(s1->kind, PORT_TRANSPORT_REPLY);
    ck_assert_uint_eq(s1->id, s0->id);
    ck_assert_uint_eq(s1->wire_bytes, 8 * 4096);
    ck_assert_ptr_null(fake_transport_sent(ft, 2));
}
END_TEST

static void silent(void *data, struct port_transport *t, const char *self,
                   const struct port_transport_msg *m)
{
    (void)data, (void)t, (void)self, (void)m;
}

START_TEST(test_fake_transport_call_times_out_at_deadline)
{
    ck_assert_int_eq(fake_transport_endpoint(ft, "src", silent, NULL), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "dst", NULL, NULL), 0);
    struct port_transport_out req = out_of(1, NULL, 0, 64);
    struct port_transport_msg rep = { .tag = 3 };
    ck_assert_int_eq(port_transport_call(pt, "dst", "src", &req, 1000000, &rep), VM_ETIMEDOUT);
    ck_assert_uint_eq(clk.now_ns, 1000000);
    ck_assert_uint_eq(rep.tag, 3);
    /* nothing left to arrive: FOREVER returns at once, clock unchanged */
    ck_assert_int_eq(port_transport_call(pt, "dst", "src", &req, FOREVER, &rep), VM_ETIMEDOUT);
    ck_assert_uint_eq(clk.now_ns, 1000000 + LAT + 64);   /* the request was delivered */
    struct port_transport_msg m;
    ck_assert_int_eq(port_transport_recv(pt, "dst", 500, &m), VM_ETIMEDOUT);
    ck_assert_uint_eq(clk.now_ns, 1000000 + LAT + 64 + 500);
    ck_assert_uint_eq(fake_transport_stats(ft)->call_timeouts, 2);
}
END_TEST

START_TEST(test_fake_transport_delayed_reply_arrives_late_and_is_dropped)
{
    int served = 0;
    ck_assert_int_eq(fake_transport_endpoint(ft, "src", page_server, &served), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "dst", NULL, NULL), 0);
    struct fake_transport_fault f = { .from = "src", .delay_ns = 5000000 };
    ck_assert_int_eq(fake_transport_add_fault(ft, &f), 0);
    uint32_t n = 1;
    struct port_transport_out req = out_of(1, &n, sizeof(n), 64);
    struct port_transport_msg rep;
    ck_assert_int_eq(port_transport_call(pt, "dst", "src", &req, 1000000, &rep), VM_ETIMEDOUT);
    ck_assert_uint_eq(fake_transport_run(ft, 10000000), 1);
    ck_assert_uint_eq(fake_transport_stats(ft)->late_replies, 1);
    ck_assert_uint_eq(clk.now_ns, 10000000);
}
END_TEST

START_TEST(test_fake_transport_drop_nth_and_seeded_loss)
{
    ck_assert_int_eq(fake_transport_endpoint(ft, "a", NULL, NULL), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "b", NULL, NULL), 0);
    struct fake_transport_fault f = { .to = "b", .drop_nth = 2 };
    ck_assert_int_eq(fake_transport_add_fault(ft, &f), 0);
    struct port_transport_out o = out_of(0, NULL, 0, 10);
    for (uint32_t i = 0; i < 3; i++) {
        o.tag = i;
        ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, 0), 0);
    }
    struct port_transport_msg m;
    ck_assert_int_eq(port_transport_recv(pt, "b", FOREVER, &m), 0);
    ck_assert_uint_eq(m.tag, 0);
    ck_assert_int_eq(port_transport_recv(pt, "b", FOREVER, &m), 0);
    ck_assert_uint_eq(m.tag, 2);
    ck_assert(fake_transport_sent(ft, 1)->lost);

    /* two fakes with one seed lose the same messages */
    struct fake_clock c2, c3;
    fake_clock_init(&c2, 0);
    fake_clock_init(&c3, 0);
    struct fake_transport *f2 = fake_transport_new(&c2, LAT, BPS, 77);
    struct fake_transport *f3 = fake_transport_new(&c3, LAT, BPS, 77);
    struct fake_transport_fault half = { .loss = 0.5 };
    struct fake_transport *both[] = { f2, f3 };
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(fake_transport_endpoint(both[k], "a", NULL, NULL), 0);
        ck_assert_int_eq(fake_transport_endpoint(both[k], "b", NULL, NULL), 0);
        ck_assert_int_eq(fake_transport_add_fault(both[k], &half), 0);
        for (int i = 0; i < 100; i++)
            ck_assert_int_eq(port_transport_send(fake_transport_port(both[k]), "a", "b", &o, 0), 0);
    }
    int lost = 0;
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(fake_transport_sent(f2, i)->lost, fake_transport_sent(f3, i)->lost);
        lost += fake_transport_sent(f2, i)->lost;
    }
    ck_assert_int_ge(lost, 30);
    ck_assert_int_le(lost, 70);
    fake_transport_free(f2);
    fake_transport_free(f3);
}
END_TEST

static int busy_rc[2];

static void nosy(void *data, struct port_transport *t, const char *self,
                 const struct port_transport_msg *m)
{
    struct port_transport_msg x;
    struct port_transport_out o = out_of(0, NULL, 0, 1);
    (void)data, (void)m;
    busy_rc[0] = port_transport_recv(t, self, 0, &x);
    busy_rc[1] = port_transport_call(t, self, "a", &o, 0, &x);
}

START_TEST(test_fake_transport_bad_input_and_blocking_in_handler_refused)
{
    ck_assert_int_eq(fake_transport_endpoint(ft, "a", NULL, NULL), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "n", nosy, NULL), 0);
    ck_assert_int_eq(fake_transport_endpoint(ft, "a", NULL, NULL), VM_EBUSY);
    ck_assert_int_eq(fake_transport_endpoint(ft, "", NULL, NULL), VM_EINVAL);
    struct port_transport_out ok = out_of(0, NULL, 0, 1), bad = out_of(0, NULL, 4, 1);
    struct port_transport_msg m = { .kind = PORT_TRANSPORT_MSG, .from = "a" };
    ck_assert_int_eq(port_transport_send(pt, "a", "zz", &ok, 0), VM_ENOENT);
    ck_assert_int_eq(port_transport_send(pt, "a", "n", &bad, 0), VM_EINVAL);
    ck_assert_int_eq(port_transport_send(pt, "a", "n", &ok, 8), VM_EINVAL);
    ck_assert_int_eq(port_transport_reply(pt, "n", &m, &ok), VM_EINVAL);
    ck_assert_int_eq(port_transport_recv(pt, "a", 0, NULL), VM_EINVAL);
    struct fake_transport_fault f = { .loss = 2 };
    ck_assert_int_eq(fake_transport_add_fault(ft, &f), VM_EINVAL);
    f = (struct fake_transport_fault){ .from = "zz" };
    ck_assert_int_eq(fake_transport_add_fault(ft, &f), VM_EINVAL);
    ck_assert_uint_eq(fake_transport_stats(ft)->sent, 0);
    ck_assert_int_eq(port_transport_send(pt, "a", "n", &ok, PORT_TRANSPORT_F_WAIT), 0);
    ck_assert_int_eq(busy_rc[0], VM_EBUSY);
    ck_assert_int_eq(busy_rc[1], VM_EBUSY);
    char name[4] = "e00";
    int rc = 0;
    for (int i = 0; rc == 0; i++) {
        name[1] = (char)('0' + i / 10);
        name[2] = (char)('0' + i % 10);
        rc = fake_transport_endpoint(ft, name, NULL, NULL);
    }
    ck_assert_int_eq(rc, VM_ENOSPC);
    ck_assert_ptr_null(fake_transport_new(&clk, LAT, 0, 1));
}
END_TEST

static Suite *fake_transport_suite(void)
{
    Suite *s = suite_create("fake_transport");
    TCase *tc = tcase_create("fake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fake_transport_message_takes_latency_plus_bytes_over_rate);
    tcase_add_test(tc, test_fake_transport_call_gets_reply_from_handler);
    tcase_add_test(tc, test_fake_transport_call_times_out_at_deadline);
    tcase_add_test(tc, test_fake_transport_delayed_reply_arrives_late_and_is_dropped);
    tcase_add_test(tc, test_fake_transport_drop_nth_and_seeded_loss);
    tcase_add_test(tc, test_fake_transport_bad_input_and_blocking_in_handler_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fake_transport_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
