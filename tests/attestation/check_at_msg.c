/*
 * check_at_msg.c - the datacenter model's wire and workers: batches
 * written and read back, every truncation and framing error refused
 * (never read past the blob: built with ASan), each record type's exact
 * payload checked, and the FIFO workers' completion times.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

static void add(struct at_wbuf *b, uint8_t type, const void *p, uint32_t len, uint32_t host)
{
    struct at_rec h = { .type = type, .len = len, .host = host, .attempt = 7 };
    ck_assert_int_eq(at_wbuf_add(b, &h, p, 100), 0);
}

START_TEST(test_at_msg_batch_reads_back_in_order)
{
    struct at_wbuf b = { 0 };
    uint8_t nonce[AT_NONCE_LEN] = { 1, 2, 3 };
    struct at_refuse_rec rf = { .reason = R_HASH, .component = 2 };
    add(&b, M_ATTEST, NULL, 0, 5);
    add(&b, M_NONCE, nonce, sizeof nonce, 6);
    add(&b, M_REFUSE, &rf, sizeof rf, 7);
    ck_assert_uint_eq(b.nr, 3);
    ck_assert_uint_eq(b.wire, 300);
    struct at_rdr r;
    ck_assert_int_eq(at_rdr_init(&r, b.p, b.len), 0);
    struct at_rec h;
    const uint8_t *p;
    uint8_t want[] = { M_ATTEST, M_NONCE, M_REFUSE };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(at_rdr_next(&r, &h, &p), 1);
        ck_assert_uint_eq(h.type, want[i]);
        ck_assert_uint_eq(h.host, 5 + (unsigned)i);
        ck_assert_int_eq(at_rec_check(&h, p), 0);
    }
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), 0);
    at_wbuf_free(&b);
}
END_TEST

START_TEST(test_at_msg_every_truncation_is_refused)
{
    struct at_wbuf b = { 0 };
    uint8_t nonce[AT_NONCE_LEN] = { 0 };
    add(&b, M_ATTEST, NULL, 0, 1);
    add(&b, M_NONCE, nonce, sizeof nonce, 1);
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *cut = malloc(len ? len : 1);   /* exactly len bytes: ASan sees overreads */
        memcpy(cut, b.p, len);
        struct at_rdr r;
        int rc = at_rdr_init(&r, len ? cut : NULL, len);
        if (!rc) {
            struct at_rec h;
            const uint8_t *p;
            while ((rc = at_rdr_next(&r, &h, &p)) == 1)
                ;
        }
        ck_assert_int_eq(rc, VM_EPARSE);
        free(cut);
    }
    at_wbuf_free(&b);
}
END_TEST

START_TEST(test_at_msg_framing_errors_are_refused)
{
    struct at_wbuf b = { 0 };
    add(&b, M_ATTEST, NULL, 0, 1);
    struct at_rdr r;
    struct at_rec h;
    const uint8_t *p;
    /* trailing bytes */
    uint8_t *more = calloc(1, b.len + 4);
    memcpy(more, b.p, b.len);
    ck_assert_int_eq(at_rdr_init(&r, more, b.len + 4), 0);
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), 1);
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), VM_EPARSE);
    /* a count larger than the records */
    uint32_t two = 2;
    memcpy(more + 4, &two, 4);
    ck_assert_int_eq(at_rdr_init(&r, more, b.len), 0);
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), 1);
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), VM_EPARSE);
    /* bad magic, zero count */
    memcpy(more, "XXXX", 4);
    ck_assert_int_eq(at_rdr_init(&r, more, b.len), VM_EPARSE);
    uint32_t hdr[2] = { AT_BATCH_MAGIC, 0 };
    ck_assert_int_eq(at_rdr_init(&r, hdr, sizeof hdr), VM_EPARSE);
    /* a record longer than the blob */
    struct at_rec big = { .type = M_NONCE, .len = 1u << 30 };
    memcpy(b.p + 8, &big, sizeof big);
    ck_assert_int_eq(at_rdr_init(&r, b.p, b.len), 0);
    ck_assert_int_eq(at_rdr_next(&r, &h, &p), VM_EPARSE);
    free(more);
    at_wbuf_free(&b);
}
END_TEST

static int check(uint8_t type, const void *p, uint32_t len)
{
    struct at_rec h = { .type = type, .len = len };
    return at_rec_check(&h, p);
}

START_TEST(test_at_msg_payloads_have_their_exact_size)
{
    uint8_t big[4096] = { 0 };
    ck_assert_int_eq(check(M_ATTEST, big, 0), 0);
    ck_assert_int_eq(check(M_ATTEST, big, 1), VM_EPARSE);
    ck_assert_int_eq(check(M_NONCE, big, AT_NONCE_LEN - 1), VM_EPARSE);
    ck_assert_int_eq(check(M_TOKEN, big, sizeof(struct at_token_rec)), 0);
    ck_assert_int_eq(check(0, big, 0), VM_EPARSE);
    ck_assert_int_eq(check(M_NR, big, 0), VM_EPARSE);
    struct at_refuse_rec rf = { .reason = R_NR };
    ck_assert_int_eq(check(M_REFUSE, &rf, sizeof rf), VM_EPARSE);
    /* a quote: the count must give the length, strings NUL-terminated */
    struct at_quote_rec q = { .nr_events = 2 };
    struct at_event ev[2];
    memset(ev, 0, sizeof ev);
    memcpy(big, &q, sizeof q);
    memcpy(big + sizeof q, ev, sizeof ev);
    uint32_t n = (uint32_t)(sizeof q + sizeof ev);
    ck_assert_int_eq(check(M_QUOTE, big, n), 0);
    ck_assert_int_eq(check(M_QUOTE, big, n - 1), VM_EPARSE);
    ck_assert_int_eq(check(M_QUOTE, big, (uint32_t)sizeof q - 1), VM_EPARSE);
    memset(ev[1].name, 'x', AT_NAME_MAX);
    memcpy(big + sizeof q, ev, sizeof ev);
    ck_assert_int_eq(check(M_QUOTE, big, n), VM_EPARSE);
    q.nr_events = 0;
    memcpy(big, &q, sizeof q);
    ck_assert_int_eq(check(M_QUOTE, big, (uint32_t)sizeof q), VM_EPARSE);
    /* a lookup of nothing, a policy that neither adds nor removes */
    memset(big, 0, sizeof big);
    ck_assert_int_eq(check(M_LOOKUP, big, 8), VM_EPARSE);
    struct at_policy_rec pr = { .add = 2 };
    ck_assert_int_eq(check(M_POLICY, &pr, sizeof pr), VM_EPARSE);
    pr.add = 1;
    ck_assert_int_eq(check(M_POLICY, &pr, sizeof pr), 0);
}
END_TEST

START_TEST(test_at_cpu_is_fifo_over_k_workers)
{
    struct at_cpu c;
    ck_assert_int_eq(at_cpu_init(&c, 2), 0);
    ck_assert_uint_eq(at_cpu_run(&c, 0, 10), 10);
    ck_assert_uint_eq(at_cpu_run(&c, 0, 10), 10);
    ck_assert_uint_eq(at_cpu_run(&c, 0, 10), 20);   /* waits for a worker */
    ck_assert_uint_eq(at_cpu_run(&c, 15, 10), 25);  /* the one free at 10 */
    ck_assert_uint_eq(at_cpu_run(&c, 100, 0.4), 100);
    ck_assert_uint_eq(c.busy_ns, 40);
    at_cpu_free(&c);
}
END_TEST

static Suite *at_msg_suite(void)
{
    Suite *s = suite_create("at_msg");
    TCase *tc = tcase_create("msg");
    tcase_add_test(tc, test_at_msg_batch_reads_back_in_order);
    tcase_add_test(tc, test_at_msg_every_truncation_is_refused);
    tcase_add_test(tc, test_at_msg_framing_errors_are_refused);
    tcase_add_test(tc, test_at_msg_payloads_have_their_exact_size);
    tcase_add_test(tc, test_at_cpu_is_fifo_over_k_workers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(at_msg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
