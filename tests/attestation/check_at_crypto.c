/*
 * check_at_crypto.c - the attestation mechanism's cryptography alone:
 * SHA-256 and Ed25519 against published known answers (FIPS 180-2
 * appendix B, RFC 8032 section 7.1), the seed-derived keys of a
 * simulation, sign/verify with every bit that matters flipped, algorithm
 * names, and strict hex.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_crypto.h"

/* Decode a known-answer hex string (the test's own, so it must parse). */
static void unhex(const char *s, uint8_t *out, size_t n)
{
    size_t where;
    ck_assert_int_eq(at_hex_decode(s, out, n, &where), 0);
}

static void assert_sha(const void *p, size_t n, const char *want)
{
    uint8_t h[AT_HASH_LEN];
    char hex[2 * AT_HASH_LEN + 1];
    at_sha256(p, n, h);
    at_hex_encode(h, sizeof h, hex);
    ck_assert_str_eq(hex, want);
}

/* ------------------------------------------------------------- SHA-256 */

START_TEST(test_at_sha256_known_answers_fips180)
{
    assert_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_sha(two, sizeof two - 1,
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_at_sha256_incremental_equals_one_shot_at_any_split)
{
    uint8_t msg[300], one[AT_HASH_LEN], inc[AT_HASH_LEN];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    at_sha256(msg, sizeof msg, one);
    for (size_t cut = 0; cut <= sizeof msg; cut += 13) {
        struct at_sha256_ctx c;
        at_sha256_init(&c);
        at_sha256_update(&c, msg, cut);
        at_sha256_update(&c, NULL, 0);
        at_sha256_update(&c, msg + cut, sizeof msg - cut);
        at_sha256_final(&c, inc);
        ck_assert_mem_eq(inc, one, AT_HASH_LEN);
    }
}
END_TEST

/* ------------------------------------------------------------- Ed25519 */

START_TEST(test_at_ed25519_rfc8032_test1)
{
    uint8_t seed[AT_SEED_LEN], pub[AT_PUB_LEN], want[AT_SIG_LEN], sig[AT_SIG_LEN];
    unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, sizeof seed);
    unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pub, sizeof pub);
    unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
          "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", want, sizeof want);
    struct at_key k;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(at_key_init(&k, seed, &d), 0);
    ck_assert_mem_eq(k.pub, pub, AT_PUB_LEN);
    ck_assert_int_eq(at_sign(&k, "", 0, sig), 0);
    ck_assert_mem_eq(sig, want, AT_SIG_LEN);
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, pub, "", 0, want), 0);
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, pub, NULL, 0, want), 0);
    at_key_free(&k);
    at_key_free(&k);                /* idempotent */
    at_key_free(NULL);
}
END_TEST

/* RFC 6979 appendix A.2.5 (P-256, SHA-256, message "sample"): the key of
 * seed = x (read big-endian, below n: the scalar itself) has the RFC's
 * public key U, and at_verify_key accepts the RFC's r || s. */
START_TEST(test_at_p256_rfc6979_a25_known_answer)
{
    uint8_t seed[AT_SEED_LEN], pub[AT_P256_PUB_LEN], sig[AT_SIG_LEN];
    unhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721", seed, sizeof seed);
    pub[0] = 0x04;
    unhex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", pub + 1, 32);
    unhex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", pub + 33, 32);
    unhex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
          "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8", sig, sizeof sig);
    struct at_key k;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(at_key_init_alg(&k, AT_ALG_ECDSA_P256, seed, &d), 0);
    ck_assert_mem_eq(k.pub, pub, AT_P256_PUB_LEN);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, pub, sizeof pub, "sample", 6, sig), 0);
    sig[63] ^= 1;
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, pub, sizeof pub, "sample", 6, sig),
                     VM_ECORRUPT);
    at_key_free(&k);
}
END_TEST

START_TEST(test_at_key_seed_deterministic_and_distinct_per_role_and_index)
{
    uint8_t a[AT_SEED_LEN], b[AT_SEED_LEN];
    at_key_seed(a, "host", 1, 7);
    at_key_seed(b, "host", 1, 7);
    ck_assert_mem_eq(a, b, AT_SEED_LEN);
    /* every input changes the seed */
    const struct { const char *role; uint64_t seed, index; } other[] = {
        { "host", 1, 8 }, { "host", 2, 7 }, { "node", 1, 7 }, { "hos", 1, 7 },
        { "depot-targets", 1, 7 }, { "depot-timestamp", 1, 7 }, { "", 1, 7 },
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        at_key_seed(b, other[i].role, other[i].seed, other[i].index);
        ck_assert_msg(memcmp(a, b, AT_SEED_LEN) != 0, "case %zu collides", i);
    }
    /* and so the keys: same seed, same key; two indices, two keys */
    struct at_key k1, k2, k3;
    at_key_seed(a, "host", 1, 7);
    at_key_seed(b, "host", 1, 8);
    ck_assert_int_eq(at_key_init(&k1, a, NULL), 0);
    ck_assert_int_eq(at_key_init(&k2, a, NULL), 0);
    ck_assert_int_eq(at_key_init(&k3, b, NULL), 0);
    ck_assert_mem_eq(k1.pub, k2.pub, AT_PUB_LEN);
    ck_assert_mem_ne(k1.pub, k3.pub, AT_PUB_LEN);
    uint8_t s1[AT_SIG_LEN], s2[AT_SIG_LEN];
    ck_assert_int_eq(at_sign(&k1, "m", 1, s1), 0);
    ck_assert_int_eq(at_sign(&k2, "m", 1, s2), 0);
    ck_assert_mem_eq(s1, s2, AT_SIG_LEN);   /* Ed25519 signs deterministically */
    at_key_free(&k1);
    at_key_free(&k2);
    at_key_free(&k3);
}
END_TEST

START_TEST(test_at_verify_refuses_any_flipped_bit)
{
    uint8_t seed[AT_SEED_LEN], msg[64], sig[AT_SIG_LEN];
    at_key_seed(seed, "host", 42, 0);
    struct at_key k;
    ck_assert_int_eq(at_key_init(&k, seed, NULL), 0);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    ck_assert_int_eq(at_sign(&k, msg, sizeof msg, sig), 0);
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, k.pub, msg, sizeof msg, sig), 0);
    /* one bit of the message, at every byte */
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x01;
        ck_assert_int_eq(at_verify(AT_ALG_ED25519, k.pub, msg, sizeof msg, sig), VM_ECORRUPT);
        msg[i] ^= 0x01;
    }
    /* one bit of the signature, every bit (R and S: S's top bits make an
     * out-of-range scalar, which must be refused the same way) */
    for (size_t bit = 0; bit < 8 * AT_SIG_LEN; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(at_verify(AT_ALG_ED25519, k.pub, msg, sizeof msg, sig), VM_ECORRUPT);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* a shorter message, another key */
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, k.pub, msg, sizeof msg - 1, sig), VM_ECORRUPT);
    uint8_t pub2[AT_PUB_LEN];
    memcpy(pub2, k.pub, AT_PUB_LEN);
    pub2[3] ^= 0x10;
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, pub2, msg, sizeof msg, sig), VM_ECORRUPT);
    /* still good afterwards: no state left behind by the failures */
    ck_assert_int_eq(at_verify(AT_ALG_ED25519, k.pub, msg, sizeof msg, sig), 0);
    at_key_free(&k);
}
END_TEST

/* ECDSA P-256 (SHA-256): the key follows from the seed, the signature
 * (r || s) verifies, and a changed message, signature or key, or an
 * Ed25519 signature or key offered as P-256, does not. */
START_TEST(test_at_p256_sign_verify_and_refusals)
{
    uint8_t seed[AT_SEED_LEN], msg[64], sig[AT_SIG_LEN], ed_sig[AT_SIG_LEN];
    at_key_seed(seed, "host", 42, 0);
    struct at_key k, k2, ed;
    ck_assert_int_eq(at_key_init_alg(&k, AT_ALG_ECDSA_P256, seed, NULL), 0);
    ck_assert_int_eq(k.alg, AT_ALG_ECDSA_P256);
    ck_assert_uint_eq(k.pub[0], 0x04);              /* uncompressed SEC 1 point */
    ck_assert_int_eq(at_key_init_alg(&k2, AT_ALG_ECDSA_P256, seed, NULL), 0);
    ck_assert_mem_eq(k.pub, k2.pub, AT_P256_PUB_LEN);   /* the seed decides the key */
    ck_assert_int_eq(at_key_init(&ed, seed, NULL), 0);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    ck_assert_int_eq(at_sign(&k, msg, sizeof msg, sig), 0);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig), 0);
    /* another signature of the same message (a fresh k) verifies too */
    uint8_t sig2[AT_SIG_LEN];
    ck_assert_int_eq(at_sign(&k2, msg, sizeof msg, sig2), 0);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig2), 0);
    /* a flipped bit of the message, of r, of s */
    msg[7] ^= 1;
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig), VM_ECORRUPT);
    msg[7] ^= 1;
    for (size_t byte = 0; byte < AT_SIG_LEN; byte += 9) {
        sig[byte] ^= 0x20;
        ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg,
                                       sizeof msg, sig), VM_ECORRUPT);
        sig[byte] ^= 0x20;
    }
    /* r = 0 and s = 0 are malformed: refused, not an error */
    memset(sig2, 0, sizeof sig2);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig2), VM_ECORRUPT);
    /* the wrong key: another seed's, a point off the curve */
    struct at_key other;
    uint8_t seed2[AT_SEED_LEN];
    at_key_seed(seed2, "host", 42, 1);
    ck_assert_int_eq(at_key_init_alg(&other, AT_ALG_ECDSA_P256, seed2, NULL), 0);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, other.pub, AT_P256_PUB_LEN, msg,
                                   sizeof msg, sig), VM_ECORRUPT);
    uint8_t bad[AT_P256_PUB_LEN];
    memcpy(bad, k.pub, sizeof bad);
    bad[64] ^= 1;
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, bad, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig), VM_ECORRUPT);
    /* an Ed25519 signature presented as P-256 (either key), and the reverse */
    ck_assert_int_eq(at_sign(&ed, msg, sizeof msg, ed_sig), 0);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   ed_sig), VM_ECORRUPT);
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, ed.pub, AT_PUB_LEN, msg, sizeof msg,
                                   ed_sig), VM_ECORRUPT);
    ck_assert_int_eq(at_verify(AT_ALG_ECDSA_P256, ed.pub, msg, sizeof msg, ed_sig),
                     VM_ECORRUPT);
    ck_assert_int_eq(at_verify_key(AT_ALG_ED25519, ed.pub, AT_PUB_LEN, msg, sizeof msg, sig),
                     VM_ECORRUPT);
    /* still good afterwards, and the error queue empty */
    ck_assert_int_eq(at_verify_key(AT_ALG_ECDSA_P256, k.pub, AT_P256_PUB_LEN, msg, sizeof msg,
                                   sig), 0);
    ck_assert_int_eq(at_alg_parse("ecdsa-p256"), AT_ALG_ECDSA_P256);
    ck_assert_str_eq(at_alg_name(AT_ALG_ECDSA_P256), "ecdsa-p256");
    ck_assert_uint_eq(at_pub_len(AT_ALG_ECDSA_P256), AT_P256_PUB_LEN);
    ck_assert_int_eq(at_key_init_alg(&other, AT_ALG_UNKNOWN, seed2, NULL), VM_EINVAL);
    at_key_free(&k);
    at_key_free(&k2);
    at_key_free(&ed);
    at_key_free(&other);
}
END_TEST

START_TEST(test_at_alg_unknown_is_enotsup)
{
    ck_assert_int_eq(at_alg_parse("ed25519"), AT_ALG_ED25519);
    ck_assert_int_eq(at_alg_parse("Ed25519"), AT_ALG_UNKNOWN);
    ck_assert_int_eq(at_alg_parse("rsa-pss"), AT_ALG_UNKNOWN);
    ck_assert_int_eq(at_alg_parse(""), AT_ALG_UNKNOWN);
    ck_assert_int_eq(at_alg_parse(NULL), AT_ALG_UNKNOWN);
    ck_assert_str_eq(at_alg_name(AT_ALG_ED25519), "ed25519");
    ck_assert_str_eq(at_alg_name(AT_ALG_UNKNOWN), "unknown");
    uint8_t seed[AT_SEED_LEN], sig[AT_SIG_LEN];
    at_key_seed(seed, "node", 1, 0);
    struct at_key k;
    ck_assert_int_eq(at_key_init(&k, seed, NULL), 0);
    ck_assert_int_eq(at_sign(&k, "x", 1, sig), 0);
    /* even a good signature is not believed under an algorithm we do not know */
    ck_assert_int_eq(at_verify(AT_ALG_UNKNOWN, k.pub, "x", 1, sig), VM_ENOTSUP);
    ck_assert_int_eq(at_verify((enum at_alg)5, k.pub, "x", 1, sig), VM_ENOTSUP);
    at_key_free(&k);
}
END_TEST

START_TEST(test_at_sign_without_key_is_einval)
{
    struct at_key k = { .pkey = NULL };
    uint8_t sig[AT_SIG_LEN];
    ck_assert_int_eq(at_sign(&k, "x", 1, sig), VM_EINVAL);
    ck_assert_int_eq(at_sign(NULL, "x", 1, sig), VM_EINVAL);
    struct vm_diag d = { 0 };
    ck_assert_int_eq(at_key_init(&k, NULL, &d), VM_EINVAL);
    ck_assert_int_ne(d.code, 0);
}
END_TEST

/* ----------------------------------------------------------------- hex */

START_TEST(test_at_hex_round_trip_either_case)
{
    uint8_t in[5] = { 0x00, 0x9f, 0xa0, 0xff, 0x12 }, out[5];
    char hex[11];
    at_hex_encode(in, sizeof in, hex);
    ck_assert_str_eq(hex, "009fa0ff12");
    ck_assert_int_eq(at_hex_decode("009FA0fF12", out, sizeof out, NULL), 0);
    ck_assert_mem_eq(out, in, sizeof in);
    at_hex_encode(in, 0, hex);
    ck_assert_str_eq(hex, "");
    ck_assert_int_eq(at_hex_decode("", out, 0, NULL), 0);
}
END_TEST

START_TEST(test_at_hex_strict_points_at_the_problem)
{
    uint8_t out[4];
    size_t where = 99;
    /* odd length: the length seen */
    ck_assert_int_eq(at_hex_decode("0011223", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 7);
    /* too short and too long: the length seen */
    ck_assert_int_eq(at_hex_decode("001122", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 6);
    ck_assert_int_eq(at_hex_decode("0011223344", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 10);
    /* a non-hex character: its index, before any length complaint */
    ck_assert_int_eq(at_hex_decode("00112g33", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 5);
    ck_assert_int_eq(at_hex_decode("0x112233", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 1);
    ck_assert_int_eq(at_hex_decode(" 0112233", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 0);
    ck_assert_int_eq(at_hex_decode("00112233 ", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 8);
    ck_assert_int_eq(at_hex_decode("0011-", out, 4, &where), VM_EPARSE);
    ck_assert_uint_eq(where, 4);
    ck_assert_int_eq(at_hex_decode(NULL, out, 4, &where), VM_EINVAL);
    /* a refusal leaves the output alone... */
    memset(out, 0xee, sizeof out);
    ck_assert_int_eq(at_hex_decode("0011223g", out, 4, NULL), VM_EPARSE);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_uint_eq(out[i], 0xee);
    /* ...and the exact length decodes */
    ck_assert_int_eq(at_hex_decode("0011223f", out, 4, &where), 0);
    ck_assert_uint_eq(out[3], 0x3f);
}
END_TEST

static Suite *at_crypto_suite(void)
{
    Suite *s = suite_create("at_crypto");
    TCase *t = tcase_create("sha256");
    tcase_add_test(t, test_at_sha256_known_answers_fips180);
    tcase_add_test(t, test_at_sha256_incremental_equals_one_shot_at_any_split);
    suite_add_tcase(s, t);
    t = tcase_create("ed25519");
    tcase_add_test(t, test_at_ed25519_rfc8032_test1);
    tcase_add_test(t, test_at_p256_rfc6979_a25_known_answer);
    tcase_add_test(t, test_at_key_seed_deterministic_and_distinct_per_role_and_index);
    tcase_add_test(t, test_at_verify_refuses_any_flipped_bit);
    tcase_add_test(t, test_at_p256_sign_verify_and_refusals);
    tcase_add_test(t, test_at_alg_unknown_is_enotsup);
    tcase_add_test(t, test_at_sign_without_key_is_einval);
    suite_add_tcase(s, t);
    t = tcase_create("hex");
    tcase_add_test(t, test_at_hex_round_trip_either_case);
    tcase_add_test(t, test_at_hex_strict_points_at_the_problem);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(at_crypto_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
