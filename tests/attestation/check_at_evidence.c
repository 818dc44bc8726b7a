/*
 * check_at_evidence.c - a host's event log and quote with real keys: a
 * good quote verifies; a tampered event, a replayed nonce, another
 * host's key and another host's id are each refused with their own
 * reason; event encodings never collide and the PCR is a TPM extend.
 * The same with ECDSA P-256 keys (a TPM 2.0's attestation key), and an
 * Ed25519 signature presented as P-256 (or the reverse) is refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_evidence.h"

#define NR_EV 3

struct rig {
    struct at_key key[2];           /* host 10's and host 11's */
    struct at_event ev[NR_EV];
    uint8_t nonce_a[AT_NONCE_LEN], nonce_b[AT_NONCE_LEN];
};

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof *r);
    for (int h = 0; h < 2; h++) {
        uint8_t seed[AT_SEED_LEN];
        at_key_seed(seed, "host", 1, 10 + (uint64_t)h);
        ck_assert_int_eq(at_key_init(&r->key[h], seed, NULL), 0);
    }
    static const char *names[NR_EV] = { "esx-base", "vmware-fdm", "nvidia-driver" };
    for (int i = 0; i < NR_EV; i++) {
        uint8_t files[2 * AT_HASH_LEN];
        at_sha256(names[i], strlen(names[i]), files);
        at_sha256("second file", 11, files + AT_HASH_LEN);
        snprintf(r->ev[i].name, sizeof r->ev[i].name, "%s", names[i]);
        snprintf(r->ev[i].version, sizeof r->ev[i].version, "8.0.%d", i);
        snprintf(r->ev[i].vendor, sizeof r->ev[i].vendor, "VMware");
        at_component_hash(files, 2, r->ev[i].data_hash);
    }
    at_sha256("nonce a", 7, r->nonce_a);
    at_sha256("nonce b", 7, r->nonce_b);
}

static void rig_free(struct rig *r)
{
    at_key_free(&r->key[0]);
    at_key_free(&r->key[1]);
}

START_TEST(test_at_quote_good_verifies)
{
    struct rig r;
    rig_init(&r);
    struct at_quote q;
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_uint_eq(q.host, 10);
    ck_assert_mem_eq(q.nonce, r.nonce_a, AT_NONCE_LEN);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub,
                                     r.nonce_a, r.ev, NR_EV), AT_QUOTE_OK);
    /* an empty log is a log too (the PCR stays zero) */
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, 0, &q), 0);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub,
                                     r.nonce_a, r.ev, 0), AT_QUOTE_OK);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_tampered_event_is_pcr_mismatch)
{
    struct rig r;
    rig_init(&r);
    struct at_quote q;
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    /* one byte of one data_hash: a tampered binary measured at boot */
    for (int i = 0; i < NR_EV; i++) {
        r.ev[i].data_hash[5] ^= 0x40;
        ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub,
                                         r.nonce_a, r.ev, NR_EV),
                         AT_QUOTE_PCR_MISMATCH);
        r.ev[i].data_hash[5] ^= 0x40;
    }
    /* a changed version string, a dropped event, swapped events */
    r.ev[1].version[0] = '9';
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_PCR_MISMATCH);
    r.ev[1].version[0] = '8';
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub,
                                     r.nonce_a, r.ev, NR_EV - 1),
                     AT_QUOTE_PCR_MISMATCH);
    struct at_event tmp = r.ev[0];
    r.ev[0] = r.ev[1];
    r.ev[1] = tmp;
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_PCR_MISMATCH);
    /* a PCR edited in the quote to match a tampered log: the signature */
    r.ev[1] = r.ev[0];
    r.ev[0] = tmp;
    r.ev[2].data_hash[0] ^= 1;
    at_log_pcr(r.ev, NR_EV, q.pcr);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_replay_is_stale_nonce)
{
    struct rig r;
    rig_init(&r);
    struct at_quote q;
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_b, r.ev, NR_EV),
                     AT_QUOTE_STALE_NONCE);
    /* rewriting the nonce in the replayed quote breaks the signature */
    memcpy(q.nonce, r.nonce_b, AT_NONCE_LEN);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_b, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_other_hosts_key_is_bad_sig)
{
    struct rig r;
    rig_init(&r);
    struct at_quote q;
    /* host 11's key quoting as host 10 */
    ck_assert_int_eq(at_quote_sign(&r.key[1], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    /* a flipped signature bit */
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    q.sig[17] ^= 0x08;
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_wrong_host_id)
{
    struct rig r;
    rig_init(&r);
    struct at_quote q;
    ck_assert_int_eq(at_quote_sign(&r.key[1], 11, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_int_eq(at_quote_verify(&q, 11, r.key[1].alg, r.key[1].pub,
                                     r.nonce_a, r.ev, NR_EV), AT_QUOTE_OK);
    /* host 11's good quote presented for host 10 */
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_WRONG_HOST);
    /* the host id edited to 10: signed for 11, so refused on the key */
    q.host = 10;
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[1].alg, r.key[1].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    rig_free(&r);
}
END_TEST

/* ECDSA P-256 host keys from the same seeds */
static void p256_keys(struct at_key k[2])
{
    for (int h = 0; h < 2; h++) {
        uint8_t seed[AT_SEED_LEN];
        at_key_seed(seed, "host", 1, 10 + (uint64_t)h);
        ck_assert_int_eq(at_key_init_alg(&k[h], AT_ALG_ECDSA_P256, seed, NULL), 0);
    }
}

START_TEST(test_at_quote_p256_good_tampered_wrong_key_replayed)
{
    struct rig r;
    rig_init(&r);
    struct at_key k[2];
    p256_keys(k);
    struct at_quote q;
    ck_assert_int_eq(at_quote_sign(&k[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_int_eq(q.alg, AT_ALG_ECDSA_P256);
    ck_assert_int_eq(at_quote_verify(&q, 10, k[0].alg, k[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_OK);
    /* tampered: an event changed after the quote, or the signature */
    struct at_event ev[NR_EV];
    memcpy(ev, r.ev, sizeof ev);
    ev[1].data_hash[0] ^= 1;
    ck_assert_int_eq(at_quote_verify(&q, 10, k[0].alg, k[0].pub, r.nonce_a, ev, NR_EV),
                     AT_QUOTE_PCR_MISMATCH);
    struct at_quote t = q;
    t.sig[40] ^= 0x10;
    ck_assert_int_eq(at_quote_verify(&t, 10, k[0].alg, k[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    /* wrong key: host 11's P-256 key signed host 10's quote */
    ck_assert_int_eq(at_quote_sign(&k[1], 10, r.nonce_a, r.ev, NR_EV, &t), 0);
    ck_assert_int_eq(at_quote_verify(&t, 10, k[0].alg, k[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    /* replayed: the quote of nonce a offered for nonce b */
    ck_assert_int_eq(at_quote_verify(&q, 10, k[0].alg, k[0].pub, r.nonce_b, r.ev, NR_EV),
                     AT_QUOTE_STALE_NONCE);
    /* the same seed gives the same P-256 key */
    struct at_key again;
    uint8_t seed[AT_SEED_LEN];
    at_key_seed(seed, "host", 1, 10);
    ck_assert_int_eq(at_key_init_alg(&again, AT_ALG_ECDSA_P256, seed, NULL), 0);
    ck_assert_mem_eq(again.pub, k[0].pub, AT_P256_PUB_LEN);
    at_key_free(&again);
    at_key_free(&k[0]);
    at_key_free(&k[1]);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_ed25519_presented_as_p256_refused)
{
    struct rig r;
    rig_init(&r);
    struct at_key k[2];
    p256_keys(k);
    struct at_quote q;
    /* host 10 registered a P-256 key; an Ed25519 quote, named as such or
     * relabelled P-256, is refused */
    ck_assert_int_eq(at_quote_sign(&r.key[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    ck_assert_int_eq(q.alg, AT_ALG_ED25519);
    ck_assert_int_eq(at_quote_verify(&q, 10, k[0].alg, k[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    q.alg = AT_ALG_ECDSA_P256;
    ck_assert_int_eq(at_quote_verify(&q, 10, k[0].alg, k[0].pub, r.nonce_a, r.ev, NR_EV),
                     AT_QUOTE_BAD_SIG);
    /* ... and the reverse: a P-256 quote relabelled Ed25519 against an
     * Ed25519 registration */
    ck_assert_int_eq(at_quote_sign(&k[0], 10, r.nonce_a, r.ev, NR_EV, &q), 0);
    q.alg = AT_ALG_ED25519;
    ck_assert_int_eq(at_quote_verify(&q, 10, r.key[0].alg, r.key[0].pub, r.nonce_a, r.ev,
                                     NR_EV), AT_QUOTE_BAD_SIG);
    at_key_free(&k[0]);
    at_key_free(&k[1]);
    rig_free(&r);
}
END_TEST

START_TEST(test_at_quote_err_names)
{
    ck_assert_str_eq(at_quote_err_name(AT_QUOTE_OK), "ok");
    ck_assert_str_eq(at_quote_err_name(AT_QUOTE_BAD_SIG), "bad_sig");
    ck_assert_str_eq(at_quote_err_name(AT_QUOTE_STALE_NONCE), "stale_nonce");
    ck_assert_str_eq(at_quote_err_name(AT_QUOTE_PCR_MISMATCH), "pcr_mismatch");
    ck_assert_str_eq(at_quote_err_name(AT_QUOTE_WRONG_HOST), "wrong_host");
    ck_assert_str_eq(at_quote_err_name((enum at_quote_err)99), "unknown");
}
END_TEST

/* ----------------------------------------------------------- encodings */

START_TEST(test_at_event_encoding_is_length_prefixed)
{
    struct at_event a = { .name = "ab", .version = "c", .vendor = "v" };
    struct at_event b = { .name = "a", .version = "bc", .vendor = "v" };
    uint8_t ea[AT_EVENT_ENC_MAX], eb[AT_EVENT_ENC_MAX];
    size_t la = at_event_encode(&a, ea), lb = at_event_encode(&b, eb);
    ck_assert_uint_eq(la, lb);                  /* same total length... */
    ck_assert_mem_ne(ea, eb, la);               /* ...different bytes */
    uint8_t pa[AT_HASH_LEN], pb[AT_HASH_LEN];
    at_log_pcr(&a, 1, pa);
    at_log_pcr(&b, 1, pb);
    ck_assert_mem_ne(pa, pb, AT_HASH_LEN);
    /* the layout: u32 LE length + bytes per string, then the hash */
    ck_assert_uint_eq(la, 3 * 4 + 2 + 1 + 1 + AT_HASH_LEN);
    ck_assert_uint_eq(ea[0], 2);
    ck_assert_uint_eq(ea[1] | ea[2] | ea[3], 0);
    ck_assert_mem_eq(ea + 4, "ab", 2);
    /* the longest event fits the bound */
    struct at_event big;
    memset(&big, 'x', sizeof big);
    big.name[AT_NAME_MAX - 1] = big.version[AT_VERSION_MAX - 1] = big.vendor[AT_VENDOR_MAX - 1] = 0;
    ck_assert_uint_le(at_event_encode(&big, ea), AT_EVENT_ENC_MAX);
}
END_TEST

START_TEST(test_at_log_pcr_is_tpm_extend)
{
    struct rig r;
    rig_init(&r);
    uint8_t pcr[AT_HASH_LEN], want[AT_HASH_LEN], pair[2 * AT_HASH_LEN], enc[AT_EVENT_ENC_MAX];
    memset(want, 0, sizeof want);
    at_log_pcr(r.ev, 0, pcr);
    ck_assert_mem_eq(pcr, want, AT_HASH_LEN);
    for (int i = 0; i < NR_EV; i++) {
        memcpy(pair, want, AT_HASH_LEN);
        at_sha256(enc, at_event_encode(&r.ev[i], enc), pair + AT_HASH_LEN);
        at_sha256(pair, sizeof pair, want);
    }
    at_log_pcr(r.ev, NR_EV, pcr);
    ck_assert_mem_eq(pcr, want, AT_HASH_LEN);
    /* data_hash is SHA-256 over the file hashes in order */
    uint8_t files[2 * AT_HASH_LEN], h[AT_HASH_LEN];
    at_sha256("esx-base", 8, files);
    at_sha256("second file", 11, files + AT_HASH_LEN);
    at_sha256(files, sizeof files, h);
    ck_assert_mem_eq(h, r.ev[0].data_hash, AT_HASH_LEN);
    rig_free(&r);
}
END_TEST

static Suite *at_evidence_suite(void)
{
    Suite *s = suite_create("at_evidence");
    TCase *t = tcase_create("quote");
    tcase_add_test(t, test_at_quote_good_verifies);
    tcase_add_test(t, test_at_quote_tampered_event_is_pcr_mismatch);
    tcase_add_test(t, test_at_quote_replay_is_stale_nonce);
    tcase_add_test(t, test_at_quote_other_hosts_key_is_bad_sig);
    tcase_add_test(t, test_at_quote_wrong_host_id);
    tcase_add_test(t, test_at_quote_p256_good_tampered_wrong_key_replayed);
    tcase_add_test(t, test_at_quote_ed25519_presented_as_p256_refused);
    tcase_add_test(t, test_at_quote_err_names);
    suite_add_tcase(s, t);
    t = tcase_create("log");
    tcase_add_test(t, test_at_event_encoding_is_length_prefixed);
    tcase_add_test(t, test_at_log_pcr_is_tpm_extend);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(at_evidence_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
