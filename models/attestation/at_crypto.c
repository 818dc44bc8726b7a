/*
 * at_crypto.c - SHA-256 and Ed25519 from OpenSSL's libcrypto, hex, and
 * the seed-derived keys of a simulation (at_crypto.h).
 *
 * SHA-256 uses libcrypto's low-level SHA256_Init/Update/Final on a
 * SHA256_CTX held inside the caller's struct at_sha256_ctx: no allocation
 * and no provider fetch per call, which EVP_Digest would do (the
 * simulator hashes thousands of times a run).  Those functions are
 * deprecated in OpenSSL 3 but present and using the same assembler code;
 * OPENSSL_SUPPRESS_DEPRECATED keeps the warnings off in this file only.
 * Ed25519 goes through the EVP interface (EVP_DigestSign/Verify with no
 * digest: Ed25519 hashes internally), one EVP_MD_CTX per call - small
 * next to the signature's own cost (tens of microseconds).
 *
 * Not here: ECDSA (the header names only Ed25519; at_verify refuses any
 * other algorithm with VM_ENOTSUP), key storage, constant-time concerns
 * beyond libcrypto's own (the keys are simulated).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <assert.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "attestation/at_crypto.h"

static_assert(sizeof(SHA256_CTX) <= sizeof(struct at_sha256_ctx),
              "struct at_sha256_ctx must hold a SHA256_CTX");
static_assert(_Alignof(SHA256_CTX) <= _Alignof(struct at_sha256_ctx),
              "struct at_sha256_ctx must be aligned for a SHA256_CTX");

enum at_alg at_alg_parse(const char *name)
{
    if (name && strcmp(name, "ed25519") == 0)
        return AT_ALG_ED25519;
    return AT_ALG_UNKNOWN;
}

const char *at_alg_name(enum at_alg a)
{
    return a == AT_ALG_ED25519 ? "ed25519" : "unknown";
}

/* libcrypto's first queued reason into d, and the queue emptied, so one
 * failure never leaks into the report of the next. */
static int crypto_fail(struct vm_diag *d, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "no reason given";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return vm_diag_set(d, VM_EIO, "libcrypto: %s: %s", what, buf);
}

int at_key_init(struct at_key *k, const uint8_t seed[AT_SEED_LEN], struct vm_diag *d)
{
    if (!k || !seed)
        return vm_diag_set(d, VM_EINVAL, "at_key_init: no key or seed");
    memset(k, 0, sizeof *k);
    memcpy(k->seed, seed, AT_SEED_LEN);
    EVP_PKEY *p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AT_SEED_LEN);
    if (!p)
        return crypto_fail(d, "making an ed25519 key");
    size_t publen = AT_PUB_LEN;
    if (EVP_PKEY_get_raw_public_key(p, k->pub, &publen) != 1 || publen != AT_PUB_LEN) {
        EVP_PKEY_free(p);
        return crypto_fail(d, "reading an ed25519 public key");
    }
    k->pkey = p;
    return 0;
}

/* Length-prefixed role so ("ab", ...) and ("a", ...) never share bytes. */
void at_key_seed(uint8_t out[AT_SEED_LEN], const char *role, uint64_t seed, uint64_t index)
{
    static const char magic[] = "vmsim-key/1";
    struct at_sha256_ctx c;
    uint8_t le[8];
    size_t rl = role ? strlen(role) : 0;
    uint32_t rl32 = (uint32_t)rl;
    at_sha256_init(&c);
    at_sha256_update(&c, magic, sizeof magic - 1);
    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(rl32 >> (8 * i));
    at_sha256_update(&c, le, 4);
    at_sha256_update(&c, role, rl);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(seed >> (8 * i));
    at_sha256_update(&c, le, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(index >> (8 * i));
    at_sha256_update(&c, le, 8);
    at_sha256_final(&c, out);
}

void at_key_free(struct at_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}

int at_sign(const struct at_key *k, const void *msg, size_t len, uint8_t sig[AT_SIG_LEN])
{
    if (!k || !k->pkey || (!msg && len) || !sig)
        return VM_EINVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return VM_ENOMEM;
    size_t siglen = AT_SIG_LEN;
    static const uint8_t empty[1];
    int ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1
          && EVP_DigestSign(ctx, sig, &siglen, msg ? msg : empty, len) == 1
          && siglen == AT_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return VM_EIO;
    }
    return 0;
}

int at_verify(enum at_alg alg, const uint8_t pub[AT_PUB_LEN], const void *msg, size_t len,
              const uint8_t sig[AT_SIG_LEN])
{
    if (alg != AT_ALG_ED25519)
        return VM_ENOTSUP;
    if (!pub || (!msg && len) || !sig)
        return VM_EINVAL;
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AT_PUB_LEN);
    if (!p) {
        ERR_clear_error();
        return VM_EIO;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        EVP_PKEY_free(p);
        return VM_ENOMEM;
    }
    static const uint8_t empty[1];
    int rc = VM_EIO;
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, p) == 1) {
        /* 1: valid; 0: does not verify; < 0: malformed input or failure.
         * Ed25519 reports a malformed signature (S out of range, a point
         * not on the curve) as 0 or -1 by version: both are a signature
         * that does not verify. */
        int v = EVP_DigestVerify(ctx, sig, AT_SIG_LEN, msg ? msg : empty, len);
        rc = v == 1 ? 0 : VM_ECORRUPT;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(p);
    if (rc)
        ERR_clear_error();
    return rc;
}

void at_sha256(const void *p, size_t n, uint8_t out[AT_HASH_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

void at_sha256_init(struct at_sha256_ctx *c)
{
    SHA256_Init((SHA256_CTX *)c);
}

void at_sha256_update(struct at_sha256_ctx *c, const void *p, size_t n)
{
    if (n)
        SHA256_Update((SHA256_CTX *)c, p, n);
}

void at_sha256_final(struct at_sha256_ctx *c, uint8_t out[AT_HASH_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)c);
}

void at_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A character that is not a hex digit is reported first (its index),
 * then a wrong length (the length seen): "0x12" points at the 'x'. */
int at_hex_decode(const char *s, uint8_t *out, size_t n, size_t *where)
{
    size_t i;
    if (where)
        *where = 0;
    if (!s || (!out && n))
        return VM_EINVAL;
    for (i = 0; s[i]; i++) {
        if (hexval(s[i]) < 0) {
            if (where)
                *where = i;
            return VM_EPARSE;
        }
    }
    if (i != 2 * n) {
        if (where)
            *where = i;
        return VM_EPARSE;
    }
    for (i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    return 0;
}
