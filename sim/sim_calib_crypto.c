/*
 * sim_calib_crypto.c - the CPU cost of the cryptography a simulation
 * charges instead of running it (sim_calib.h: the crypto figures):
 * SHA-256 of a small and of a 4 KiB message, Ed25519 and ECDSA P-256
 * signatures and verifications, and one probe of an in-memory index keyed
 * by digests; their place in the costs file ("crypto", "spread"."crypto",
 * "notes"."crypto"), and the per-operation costs a simulation takes.
 *
 * Measured with OpenSSL's libcrypto directly, through its EVP API, as an
 * application calls it: a digest context reused (init, update, final, the
 * digest fetched once); a signature or verification with its own context
 * made and freed inside the timing (EVP_DigestSign for Ed25519, which
 * hashes the message itself; EVP_PKEY_sign on a 32-byte SHA-256 digest for
 * ECDSA).  Keys are made once, before any timing; each sample signs or
 * hashes messages it has not seen (fresh pseudo-random bytes, written
 * untimed just before), so no result can come from a cache; the
 * verifications check signatures made untimed for that sample.  Every
 * signature is checked to verify and, once per algorithm, a tampered
 * message not to.
 *
 * The index probe: 100,000 entries of 64 bytes (a 32-byte SHA-256 key and
 * a little data) in an open-addressing table of 2^17 slots (8 MiB, load
 * 0.76, linear probing, the slot from the key's first 8 bytes), the keys
 * digests of distinct inputs; each probe looks up a random key of the
 * table (a hit), copied untimed into a small hot array, as a node holds
 * the digest it checks.  Each probe's key address depends on the previous
 * probe's result (an offset that is 0 after a hit), so the probes of a
 * sample run one after the other, not overlapped by the CPU: the figure
 * is one probe's latency, not a throughput.  8 MiB is far beyond L1 and
 * L2: most probes miss both; a last-level cache of 8 MiB or more can hold
 * the table, as it would a busy node's index.
 *
 * Not measured: key generation, encoding and parsing of signatures and
 * keys, TLS, and several threads signing at once.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "sim_calib.h"

#define WARMUP_SAMPLES 2                 /* timed but dropped: code and cache warm-up */
#define MSG_BYTES 64                     /* the signed and the small hashed message */
#define BIG_BYTES 4096
#define SLOT_BITS 17                     /* 2^17 slots of 64 bytes: 8 MiB */
#define NR_SLOTS (1u << SLOT_BITS)
#define MSG_SEED 0x63727970746full       /* fixed: the same messages on every run */
#define MAX_SIG 80                       /* Ed25519: 64; ECDSA P-256 DER: at most 72 */

/* One entry of the index: a digest and what a policy keeps about it. */
struct slot {
    unsigned char key[32];
    uint64_t value;                      /* 0: an empty slot */
    unsigned char data[24];
};
_Static_assert(sizeof(struct slot) == 64, "an index entry is 64 bytes");

static void fill(struct vm_rand *r, unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = vm_rand_u64(r);
        memcpy(p + i, &x, len - i < 8 ? len - i : 8);
    }
}

/* libcrypto's failure as VM_EIO, with its first queued error. */
static int ossl_fail(struct vm_diag *d, const char *what)
{
    char why[256] = "no error queued";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    ERR_clear_error();
    return vm_diag_set(d, VM_EIO, "crypto: %s failed: %s", what, why);
}

/* ------------------------------------------------------------ SHA-256 */

struct hasher {
    EVP_MD *fetched;                     /* OpenSSL 3: fetched once (NULL before 3) */
    const EVP_MD *md;
    EVP_MD_CTX *ctx;
};

static int hasher_init(struct hasher *h, struct vm_diag *d)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    h->fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->md = h->fetched;
#else
    h->fetched = NULL;
    h->md = EVP_sha256();
#endif
    h->ctx = EVP_MD_CTX_new();
    return h->md && h->ctx ? 0 : ossl_fail(d, "SHA-256 set-up");
}

static void hasher_fini(struct hasher *h)
{
    EVP_MD_CTX_free(h->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(h->fetched);
#endif
}

static bool sha256(struct hasher *h, const void *p, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 && EVP_DigestUpdate(h->ctx, p, len) == 1 &&
           EVP_DigestFinal_ex(h->ctx, out, &n) == 1 && n == 32;
}

/* SHA-256 is what it says: the digest of "abc" (FIPS 180-2, B.1). */
static int sha256_selftest(struct hasher *h, struct vm_diag *d)
{
    static const unsigned char want[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
        0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
        0xf2, 0x00, 0x15, 0xad,
    };
    unsigned char got[32];
    if (!sha256(h, "abc", 3, got))
        return ossl_fail(d, "SHA-256");
    if (memcmp(got, want, sizeof got) != 0)
        return vm_diag_set(d, VM_EIO, "crypto: SHA-256(\"abc\") is not the FIPS 180-2 digest");
    return 0;
}

/* n samples of `batch` hashes of distinct len-byte messages; ns per hash. */
static int time_sha256(struct hasher *h, struct vm_rand *r, size_t len, uint32_t batch,
                       double *v, uint32_t n, struct vm_diag *d)
{
    unsigned char *msgs = malloc(len * batch);
    if (!msgs)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for %u messages", batch);
    unsigned char out[32], sink = 0;
    int rc = 0;
    for (uint32_t s = 0; s < n && rc == 0; s++) {
        fill(r, msgs, len * batch);
        bool ok = true;
        uint64_t t0 = sim_calib_now_ns();
        for (uint32_t i = 0; i < batch; i++) {
            ok &= sha256(h, msgs + (size_t)i * len, len, out);
            sink ^= out[0];
        }
        uint64_t t1 = sim_calib_now_ns();
        if (!ok)
            rc = ossl_fail(d, "SHA-256");
        v[s] = (double)(t1 - t0) / batch;
    }
    *(volatile unsigned char *)&sink = sink;
    free(msgs);
    return rc;
}

/* ------------------------------------------------------------ signatures */

static EVP_PKEY *keygen(int id, struct vm_diag *d)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(id, NULL);
    bool ok = kc && EVP_PKEY_keygen_init(kc) == 1;
    if (ok && id == EVP_PKEY_EC)
        ok = EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) == 1;
    ok = ok && EVP_PKEY_keygen(kc, &key) == 1;
    EVP_PKEY_CTX_free(kc);
    if (!ok) {
        ossl_fail(d, id == EVP_PKEY_EC ? "ECDSA P-256 key generation"
                                       : "Ed25519 key generation");
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* One signature: Ed25519 over the message (ed), else ECDSA over its digest
 * `dg`.  1 when made. */
static bool sign(EVP_PKEY *key, bool ed, const unsigned char *msg, const unsigned char *dg,
                 unsigned char *sig, size_t *siglen)
{
    *siglen = MAX_SIG;
    if (ed) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        bool ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, key) == 1 &&
                  EVP_DigestSign(c, sig, siglen, msg, MSG_BYTES) == 1;
        EVP_MD_CTX_free(c);
        return ok;
    }
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
    bool ok = c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, sig, siglen, dg, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

/* 1: good, 0: bad signature, -1: libcrypto failed. */
static int verify(EVP_PKEY *key, bool ed, const unsigned char *msg, const unsigned char *dg,
                  const unsigned char *sig, size_t siglen)
{
    int r = -1;
    if (ed) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, key) == 1)
            r = EVP_DigestVerify(c, sig, siglen, msg, MSG_BYTES);
        EVP_MD_CTX_free(c);
    } else {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
        if (c && EVP_PKEY_verify_init(c) == 1)
            r = EVP_PKEY_verify(c, sig, siglen, dg, 32);
        EVP_PKEY_CTX_free(c);
    }
    ERR_clear_error();                   /* a bad signature may queue an error */
    return r == 1 ? 1 : r == 0 ? 0 : -1;
}

/*
 * n samples of one signature (into vs) and n of one verification
 * (vv) with key, each over a fresh message; once, a tampered message must
 * not verify.  ns per operation.
 */
static int time_sig(struct hasher *h, struct vm_rand *r, EVP_PKEY *key, bool ed, double *vs,
                    double *vv, uint32_t n, struct vm_diag *d)
{
    const char *name = ed ? "Ed25519" : "ECDSA P-256";
    unsigned char msg[MSG_BYTES], dg[32], sig[MAX_SIG];
    size_t siglen;
    char what[64];
    for (uint32_t s = 0; s < n; s++) {
        fill(r, msg, sizeof msg);
        if (!sha256(h, msg, sizeof msg, dg))
            return ossl_fail(d, "SHA-256");
        uint64_t t0 = sim_calib_now_ns();
        bool ok = sign(key, ed, msg, dg, sig, &siglen);
        uint64_t t1 = sim_calib_now_ns();
        if (!ok) {
            snprintf(what, sizeof what, "%s signature", name);
            return ossl_fail(d, what);
        }
        uint64_t t2 = sim_calib_now_ns();
        int good = verify(key, ed, msg, dg, sig, siglen);
        uint64_t t3 = sim_calib_now_ns();
        if (good != 1)
            return vm_diag_set(d, VM_EIO, "crypto: a fresh %s signature %s", name,
                               good ? "could not be checked" : "did not verify");
        vs[s] = (double)(t1 - t0);
        vv[s] = (double)(t3 - t2);
    }
    msg[0] ^= 1;
    if (!sha256(h, msg, sizeof msg, dg))
        return ossl_fail(d, "SHA-256");
    if (verify(key, ed, msg, dg, sig, siglen) != 0)
        return vm_diag_set(d, VM_EIO, "crypto: %s verified a signature of another message",
                           name);
    return 0;
}

/* ------------------------------------------------------------ index probe */

static uint32_t slot_of(const unsigned char *key)
{
    uint64_t x;
    memcpy(&x, key, sizeof x);           /* a digest: its bytes are uniform already */
    return (uint32_t)(x & (NR_SLOTS - 1));
}

static uint64_t lookup(const struct slot *t, const unsigned char *key)
{
    for (uint32_t i = slot_of(key);; i = (i + 1) & (NR_SLOTS - 1)) {
        if (!t[i].value)
            return 0;
        if (memcmp(t[i].key, key, 32) == 0)
            return t[i].value;
    }
}

/* n samples of SIM_CALIB_HASH_BATCH probes; ns per probe. */
static int time_lookup(struct hasher *h, struct vm_rand *r, double *v, uint32_t n,
                       struct vm_diag *d)
{
    const uint32_t batch = SIM_CALIB_HASH_BATCH;
    struct slot *t = aligned_alloc(64, sizeof *t * NR_SLOTS);
    unsigned char (*keys)[32] = malloc(32 * (size_t)SIM_CALIB_POLICY_ENTRIES);
    unsigned char (*probe)[32] = malloc(32 * (size_t)batch);
    uint64_t *want = malloc(sizeof *want * batch);
    int rc = 0;
    if (!t || !keys || !probe || !want) {
        rc = vm_diag_set(d, VM_ENOMEM, "out of memory for a %u-entry index",
                         SIM_CALIB_POLICY_ENTRIES);
        goto out;
    }
    memset(t, 0, sizeof *t * NR_SLOTS);  /* written, not just mapped: no first touch timed */
    for (uint32_t k = 0; k < SIM_CALIB_POLICY_ENTRIES; k++) {
        uint64_t in[2] = { MSG_SEED, k };
        if (!sha256(h, in, sizeof in, keys[k])) {
            rc = ossl_fail(d, "SHA-256");
            goto out;
        }
        uint32_t i = slot_of(keys[k]);
        while (t[i].value)
            i = (i + 1) & (NR_SLOTS - 1);
        memcpy(t[i].key, keys[k], 32);
        t[i].value = (uint64_t)k + 1;
        memset(t[i].data, (int)(k & 0xff), sizeof t[i].data);
    }
    for (uint32_t s = 0; s < n; s++) {
        for (uint32_t i = 0; i < batch; i++) {
            uint32_t k = (uint32_t)vm_rand_below(r, SIM_CALIB_POLICY_ENTRIES);
            memcpy(probe[i], keys[k], 32);
            want[i] = (uint64_t)k + 1;
        }
        uint32_t hits = 0;
        uint64_t dep = 0;                /* 0 after a hit, but only the hit's value says so */
        uint64_t t0 = sim_calib_now_ns();
        for (uint32_t i = 0; i < batch; i++, hits++) {
            uint64_t got = lookup(t, probe[i] + dep);
            uint64_t next = got - want[i];
            __asm__("" : "+r"(next));    /* opaque: the compiler cannot fold it to 0 */
            if (got != want[i])
                break;
            dep = next;
        }
        uint64_t t1 = sim_calib_now_ns();
        if (hits != batch) {
            rc = vm_diag_set(d, VM_EIO, "index probe: %u of %u keys not found", batch - hits,
                             batch);
            goto out;
        }
        v[s] = (double)(t1 - t0) / batch;
    }
out:
    free(t);
    free(keys);
    free(probe);
    free(want);
    return rc;
}

/* ------------------------------------------------------------ all */

int sim_calib_crypto(uint32_t max_samples, struct sim_calib_crypto *out, struct vm_diag *d)
{
    bool quick = out->quick;
    memset(out, 0, sizeof *out);
    out->quick = quick;
    if (max_samples == 0)
        return vm_diag_set(d, VM_EINVAL, "crypto: expected at least one sample, got 0");
    snprintf(out->openssl_version, sizeof out->openssl_version, "%s",
             OpenSSL_version(OPENSSL_VERSION));
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) ||
        !strftime(out->date, sizeof out->date, "%Y-%m-%dT%H:%M:%SZ", &tm))
        out->date[0] = '\0';
    out->loadavg[0] = sim_calib_loadavg();
    uint32_t n = max_samples + WARMUP_SAMPLES;
    double *v[2] = { malloc(sizeof(double) * n), malloc(sizeof(double) * n) };
    struct hasher h = { 0 };
    struct vm_rand r;
    vm_rand_init(&r, MSG_SEED, 0);
    EVP_PKEY *ed = NULL, *ec = NULL;
    int rc = v[0] && v[1] ? hasher_init(&h, d)
                          : vm_diag_set(d, VM_ENOMEM, "out of memory for %u samples", n);
    if (rc == 0)
        rc = sha256_selftest(&h, d);
    if (rc == 0 && (!(ed = keygen(EVP_PKEY_ED25519, d)) || !(ec = keygen(EVP_PKEY_EC, d))))
        rc = VM_EIO;
#define FIG(i, f) sim_calib_fig_from(v[i] + WARMUP_SAMPLES, n - WARMUP_SAMPLES, &out->f)
    if (rc == 0 && (rc = time_sha256(&h, &r, MSG_BYTES, SIM_CALIB_HASH_BATCH, v[0], n, d)) == 0)
        FIG(0, sha256_64_ns);
    if (rc == 0 &&
        (rc = time_sha256(&h, &r, BIG_BYTES, SIM_CALIB_HASH4K_BATCH, v[0], n, d)) == 0)
        FIG(0, sha256_4k_ns);
    if (rc == 0 && (rc = time_sig(&h, &r, ed, true, v[0], v[1], n, d)) == 0) {
        FIG(0, ed25519_sign_ns);
        FIG(1, ed25519_verify_ns);
    }
    if (rc == 0 && (rc = time_sig(&h, &r, ec, false, v[0], v[1], n, d)) == 0) {
        FIG(0, ecdsa_p256_sign_ns);
        FIG(1, ecdsa_p256_verify_ns);
    }
    if (rc == 0 && (rc = time_lookup(&h, &r, v[0], n, d)) == 0)
        FIG(0, policy_lookup_ns);
#undef FIG
    out->loadavg[1] = sim_calib_loadavg();
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ec);
    hasher_fini(&h);
    free(v[0]);
    free(v[1]);
    if (rc) {                            /* nothing half-measured */
        struct sim_calib_crypto none = { .quick = quick };
        *out = none;
    }
    return rc;
}

int sim_calib_crypto_costs(const struct sim_calib *c, double *sha256_ns_per_byte,
                           double *sha256_small_ns, double *sign_ns, double *verify_ns,
                           double *lookup_ns, struct vm_diag *d)
{
    const struct sim_calib_crypto *k = &c->crypto;
    if (!(k->sha256_64_ns.median > 0 && k->sha256_4k_ns.median > 0 &&
          k->ed25519_sign_ns.median > 0 && k->ed25519_verify_ns.median > 0 &&
          k->policy_lookup_ns.median > 0))
        return vm_diag_set(d, VM_ENOENT, "the costs file has no crypto figures (measured "
                           "since 'vmsim calibrate' measures them; add them to an older "
                           "file with 'vmsim calibrate --only crypto -o FILE')");
    if (sha256_ns_per_byte)
        *sha256_ns_per_byte = k->sha256_4k_ns.median / BIG_BYTES;
    if (sha256_small_ns)
        *sha256_small_ns = k->sha256_64_ns.median;
    if (sign_ns)
        *sign_ns = k->ed25519_sign_ns.median;
    if (verify_ns)
        *verify_ns = k->ed25519_verify_ns.median;
    if (lookup_ns)
        *lookup_ns = k->policy_lookup_ns.median;
    return 0;
}

int sim_calib_crypto_ecdsa_costs(const struct sim_calib *c, double *sign_ns, double *verify_ns,
                                 struct vm_diag *d)
{
    const struct sim_calib_crypto *k = &c->crypto;
    if (!(k->ecdsa_p256_sign_ns.median > 0 && k->ecdsa_p256_verify_ns.median > 0))
        return vm_diag_set(d, VM_ENOENT, "the costs file has no ECDSA P-256 figures "
                           "(crypto.ecdsa_p256_sign_ns, ecdsa_p256_verify_ns; add them with "
                           "'vmsim calibrate --only crypto -o FILE')");
    if (sign_ns)
        *sign_ns = k->ecdsa_p256_sign_ns.median;
    if (verify_ns)
        *verify_ns = k->ecdsa_p256_verify_ns.median;
    return 0;
}

/* ------------------------------------------------------------ the costs file */

static double tenth(double v)
{
    return round(v * 10) / 10;
}

/* The figures, their keys and what one sample of each is. */
#define NR_FIGS 7
static void figs(const struct sim_calib_crypto *k, const struct sim_calib_fig *f[NR_FIGS])
{
    f[0] = &k->sha256_64_ns;
    f[1] = &k->sha256_4k_ns;
    f[2] = &k->ed25519_sign_ns;
    f[3] = &k->ed25519_verify_ns;
    f[4] = &k->ecdsa_p256_sign_ns;
    f[5] = &k->ecdsa_p256_verify_ns;
    f[6] = &k->policy_lookup_ns;
}
static const char *const fig_keys[NR_FIGS] = {
    "sha256_64_ns", "sha256_4k_ns", "ed25519_sign_ns", "ed25519_verify_ns",
    "ecdsa_p256_sign_ns", "ecdsa_p256_verify_ns", "policy_lookup_ns",
};
static const char *const fig_samples[NR_FIGS] = {
    "64 hashes", "16 hashes", "one signature", "one verification", "one signature",
    "one verification", "64 probes",
};

static const char crypto_note[] =
    "OpenSSL's libcrypto (crypto.openssl_version) through EVP, keys made before the timing, "
    "a fresh pseudo-random message per hash or signature; sha256_64_ns, sha256_4k_ns: one "
    "SHA-256 (init, update, final on a reused context) of 64 bytes, of 4 KiB; "
    "ed25519_sign_ns, ed25519_verify_ns: EVP_DigestSign / EVP_DigestVerify of a 64-byte "
    "message, its context made and freed in the timing; ecdsa_p256_*: EVP_PKEY_sign / "
    "EVP_PKEY_verify of a 32-byte SHA-256 digest; policy_lookup_ns: one probe of an "
    "open-addressing table of 100,000 64-byte entries keyed by SHA-256 digests (2^17 "
    "slots, 8 MiB, linear probing), a random key that is there; crypto.date and "
    "crypto.loadavg_*: the run that measured them";

/* Replace o's member `key` by item in place, else add it before the member
 * `before` (when there is one), else at the end. */
static void put(cJSON *o, const char *key, cJSON *item, const char *before)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
        return;
    }
    cJSON_AddItemToObject(o, key, item);     /* names it, at the end */
    cJSON *b = before ? cJSON_GetObjectItemCaseSensitive(o, before) : NULL;
    if (!b)
        return;
    /* moved before b by hand: cJSON_InsertItemInArray refuses object
     * members in some builds.  cJSON keeps the last member in
     * child->prev, so a new first member takes it over from b. */
    cJSON_DetachItemViaPointer(o, item);
    item->next = b;
    item->prev = b->prev;
    if (b == o->child)
        o->child = item;
    else
        item->prev->next = item;
    b->prev = item;
}

static cJSON *object_in(cJSON *root, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsObject(o))
        return o;
    o = cJSON_CreateObject();
    if (o)
        put(root, key, o, NULL);
    return o;
}

int sim_calib_json_set_crypto(cJSON *root, const struct sim_calib *c, struct vm_diag *d)
{
    const struct sim_calib_crypto *k = &c->crypto;
    const struct sim_calib_fig *f[NR_FIGS];
    figs(k, f);
    if (!(k->sha256_64_ns.median > 0)) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "crypto");
        cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "spread");
        cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "notes");
        if (cJSON_IsObject(s))
            cJSON_DeleteItemFromObjectCaseSensitive(s, "crypto");
        if (cJSON_IsObject(n))
            cJSON_DeleteItemFromObjectCaseSensitive(n, "crypto");
        return 0;
    }
    cJSON *o = cJSON_CreateObject(), *so = cJSON_CreateObject();
    cJSON *note = cJSON_CreateString(crypto_note);
    bool ok = o && so && note;
    ok = ok && cJSON_AddStringToObject(o, "openssl_version", k->openssl_version);
    if (ok && k->date[0])
        ok = cJSON_AddStringToObject(o, "date", k->date) != NULL;
    if (ok && k->loadavg[0] >= 0)
        ok = cJSON_AddNumberToObject(o, "loadavg_before", k->loadavg[0]) != NULL;
    if (ok && k->loadavg[1] >= 0)
        ok = cJSON_AddNumberToObject(o, "loadavg_after", k->loadavg[1]) != NULL;
    ok = ok && cJSON_AddBoolToObject(o, "quick", k->quick);
    for (int i = 0; ok && i < NR_FIGS; i++) {
        ok = cJSON_AddNumberToObject(o, fig_keys[i], tenth(f[i]->median)) != NULL;
        if (ok && f[i]->samples) {
            cJSON *e = cJSON_AddObjectToObject(so, fig_keys[i]);
            ok = e && cJSON_AddNumberToObject(e, "p10", tenth(f[i]->p10)) &&
                 cJSON_AddNumberToObject(e, "p90", tenth(f[i]->p90)) &&
                 cJSON_AddNumberToObject(e, "samples", f[i]->samples) &&
                 cJSON_AddStringToObject(e, "sample", fig_samples[i]);
        }
    }
    cJSON *spread = ok ? object_in(root, "spread") : NULL;
    cJSON *notes = spread ? object_in(root, "notes") : NULL;
    if (!notes) {
        cJSON_Delete(o);
        cJSON_Delete(so);
        cJSON_Delete(note);
        return vm_diag_set(d, VM_ENOMEM, "out of memory for the crypto figures");
    }
    put(root, "crypto", o, "spread");
    if (so->child) {
        put(spread, "crypto", so, NULL);
    } else {                             /* medians only (a loaded file): no spread */
        cJSON_DeleteItemFromObjectCaseSensitive(spread, "crypto");
        cJSON_Delete(so);
    }
    put(notes, "crypto", note, NULL);
    return 0;
}
