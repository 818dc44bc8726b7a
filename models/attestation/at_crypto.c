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
 * next to the signature's own cost (tens of microseconds).  ECDSA P-256
 * likewise with SHA-256 as the digest (EVP_PKEY_EC on prime256v1); its DER
 * signature (SEQUENCE of r and s) is turned into r || s and back.  A P-256
 * key is built from its scalar and the point d.G (EC_POINT_mul) through
 * EVP_PKEY_fromdata, and a public key from its 65 bytes the same way
 * (libcrypto refuses a point not on the curve).
 *
 * Not here: RSA, key storage, constant-time concerns beyond libcrypto's
 * own (the keys are simulated).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <assert.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "attestation/at_crypto.h"

static_assert(sizeof(SHA256_CTX) <= sizeof(struct at_sha256_ctx),
              "struct at_sha256_ctx must hold a SHA256_CTX");
static_assert(_Alignof(SHA256_CTX) <= _Alignof(struct at_sha256_ctx),
              "struct at_sha256_ctx must be aligned for a SHA256_CTX");

#define P256_GROUP "prime256v1"
#define P256_LEN 32              /* a coordinate, a scalar, r or s */

enum at_alg at_alg_parse(const char *name)
{
    if (name && strcmp(name, "ed25519") == 0)
        return AT_ALG_ED25519;
    if (name && strcmp(name, "ecdsa-p256") == 0)
        return AT_ALG_ECDSA_P256;
    return AT_ALG_UNKNOWN;
}

const char *at_alg_name(enum at_alg a)
{
    return a == AT_ALG_ED25519 ? "ed25519" : a == AT_ALG_ECDSA_P256 ? "ecdsa-p256" : "unknown";
}

size_t at_pub_len(enum at_alg a)
{
    return a == AT_ALG_ED25519 ? AT_PUB_LEN : a == AT_ALG_ECDSA_P256 ? AT_P256_PUB_LEN : 0;
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

/* An EC key of P-256 from params (a private scalar and its point, or a
 * point alone); NULL when libcrypto refuses it. */
static EVP_PKEY *p256_fromdata(const OSSL_PARAM *params, int selection)
{
    EVP_PKEY *p = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!c || EVP_PKEY_fromdata_init(c) != 1 || EVP_PKEY_fromdata(c, &p, selection,
                                                                   (OSSL_PARAM *)params) != 1)
        p = NULL;
    EVP_PKEY_CTX_free(c);
    return p;
}

/* The P-256 key of seed: scalar d as the header says, pub = d.G. */
static int p256_key_init(struct at_key *k, struct vm_diag *d)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *x = BN_new();
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    uint8_t s[AT_SEED_LEN];
    int rc = 0;
    memcpy(s, k->seed, sizeof s);
    if (!g || !x || !pt || !b) {
        rc = crypto_fail(d, "making a P-256 key");
        goto out;
    }
    const BIGNUM *n = EC_GROUP_get0_order(g);
    for (;;) {                   /* 0 < d < n; another draw has a chance of ~2^-32 */
        if (!BN_bin2bn(s, sizeof s, x)) {
            rc = crypto_fail(d, "making a P-256 scalar");
            goto out;
        }
        if (!BN_is_zero(x) && BN_cmp(x, n) < 0)
            break;
        at_sha256(s, sizeof s, s);
    }
    if (EC_POINT_mul(g, pt, x, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, k->pub, AT_P256_PUB_LEN,
                           NULL) != AT_P256_PUB_LEN ||
        OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, P256_GROUP, 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, x) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, k->pub,
                                         AT_P256_PUB_LEN) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(b)) ||
        !(k->pkey = p256_fromdata(params, EVP_PKEY_KEYPAIR)))
        rc = crypto_fail(d, "making a P-256 key");
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EC_POINT_free(pt);
    BN_clear_free(x);
    EC_GROUP_free(g);
    return rc;
}

int at_key_init(struct at_key *k, const uint8_t seed[AT_SEED_LEN], struct vm_diag *d)
{
    return at_key_init_alg(k, AT_ALG_ED25519, seed, d);
}

int at_key_init_alg(struct at_key *k, enum at_alg alg, const uint8_t seed[AT_SEED_LEN],
                    struct vm_diag *d)
{
    if (!k || !seed)
        return vm_diag_set(d, VM_EINVAL, "at_key_init: no key or seed");
    if (alg != AT_ALG_ED25519 && alg != AT_ALG_ECDSA_P256)
        return vm_diag_set(d, VM_EINVAL, "at_key_init: unknown algorithm %d", (int)alg);
    memset(k, 0, sizeof *k);
    k->alg = alg;
    memcpy(k->seed, seed, AT_SEED_LEN);
    if (alg == AT_ALG_ECDSA_P256)
        return p256_key_init(k, d);
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

/* DER (SEQUENCE { r, s }) -> r || s; false when it does not parse. */
static bool der_to_rs(const uint8_t *der, size_t len, uint8_t sig[AT_SIG_LEN])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;
    bool ok = es != NULL;
    if (ok) {
        ECDSA_SIG_get0(es, &r, &s);
        ok = BN_bn2binpad(r, sig, P256_LEN) == P256_LEN &&
             BN_bn2binpad(s, sig + P256_LEN, P256_LEN) == P256_LEN;
    }
    ECDSA_SIG_free(es);
    return ok;
}

/* r || s -> DER into *der (OPENSSL_free it); its length, 0 on failure. */
static size_t rs_to_der(const uint8_t sig[AT_SIG_LEN], unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_LEN, NULL), *s = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
    int len = 0;
    *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;            /* es owns them */
        len = i2d_ECDSA_SIG(es, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len > 0 ? (size_t)len : 0;
}

int at_sign(const struct at_key *k, const void *msg, size_t len, uint8_t sig[AT_SIG_LEN])
{
    if (!k || !k->pkey || (!msg && len) || !sig)
        return VM_EINVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return VM_ENOMEM;
    static const uint8_t empty[1];
    int ok;
    if (k->alg == AT_ALG_ECDSA_P256) {
        uint8_t der[80];         /* at most 72 bytes for P-256 */
        size_t dl = sizeof der;
        ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1
          && EVP_DigestSign(ctx, der, &dl, msg ? msg : empty, len) == 1
          && der_to_rs(der, dl, sig);
    } else {
        size_t siglen = AT_SIG_LEN;
        ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1
          && EVP_DigestSign(ctx, sig, &siglen, msg ? msg : empty, len) == 1
          && siglen == AT_SIG_LEN;
    }
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
    return at_verify_key(alg, pub, AT_PUB_LEN, msg, len, sig);
}

int at_verify_key(enum at_alg alg, const uint8_t *pub, size_t pub_len, const void *msg,
                  size_t len, const uint8_t sig[AT_SIG_LEN])
{
    if (alg != AT_ALG_ED25519 && alg != AT_ALG_ECDSA_P256)
        return VM_ENOTSUP;
    if (!pub || (!msg && len) || !sig)
        return VM_EINVAL;
    if (pub_len != at_pub_len(alg))
        return VM_ECORRUPT;      /* a key of another algorithm */
    EVP_PKEY *p;
    unsigned char *der = NULL;
    size_t der_len = 0;
    if (alg == AT_ALG_ECDSA_P256) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)P256_GROUP, 0),
            OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, pub_len),
            OSSL_PARAM_END,
        };
        p = p256_fromdata(params, EVP_PKEY_PUBLIC_KEY);
        if (!p) {                /* not a point of the curve */
            ERR_clear_error();
            return VM_ECORRUPT;
        }
        der_len = rs_to_der(sig, &der);
        if (!der_len) {
            EVP_PKEY_free(p);
            ERR_clear_error();
            return VM_ENOMEM;
        }
    } else {
        p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AT_PUB_LEN);
        if (!p) {
            ERR_clear_error();
            return VM_EIO;
        }
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        OPENSSL_free(der);
        EVP_PKEY_free(p);
        return VM_ENOMEM;
    }
    static const uint8_t empty[1];
    int rc = VM_EIO;
    const EVP_MD *md = alg == AT_ALG_ECDSA_P256 ? EVP_sha256() : NULL;
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, p) == 1) {
        /* 1: valid; 0: does not verify; < 0: malformed input or failure.
         * Ed25519 reports a malformed signature (S out of range, a point
         * not on the curve) as 0 or -1 by version, ECDSA an r or s of 0 or
         * not below n likewise: all are a signature that does not verify. */
        int v = der ? EVP_DigestVerify(ctx, der, der_len, msg ? msg : empty, len)
                    : EVP_DigestVerify(ctx, sig, AT_SIG_LEN, msg ? msg : empty, len);
        rc = v == 1 ? 0 : VM_ECORRUPT;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
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
