/*
 * at_crypto.h - the real cryptography of depot attestation, from OpenSSL's
 * libcrypto (EVP interface): SHA-256 for measurements and digests,
 * Ed25519 (RFC 8032) signatures for quotes, depot metadata and tokens.
 * xxhash is not cryptographic and is never used here.
 *
 * Keys are made from a 32-byte seed (Ed25519's private key is a seed:
 * RFC 8032 section 5.1.5), so a simulation's keys follow from its --seed
 * and a run is reproducible; Ed25519 signing is deterministic (no nonce
 * drawn), so signatures are too.  A P-256 key's private scalar d is the
 * seed read as a 32-byte big-endian integer; while it is 0 or >= n (the
 * curve's order) the seed is replaced by its SHA-256 and read again (a
 * redraw has a chance of ~2^-32); the public key is d.G.  A seed below n
 * is thus the scalar itself (RFC 6979 A.2.5's x gives its U).  ECDSA draws
 * a random nonce per signature, so P-256 signatures vary; none of the
 * model's figures depends on their bytes.
 *
 * Algorithms are named, as TUF's and JWS's "alg" fields are: a signature
 * names its algorithm, and a verifier refuses one it does not know
 * (at_alg_parse returns AT_ALG_UNKNOWN) instead of guessing.
 *
 * Errors: 0 or a negative VM_E*: VM_EINVAL (bad arguments), VM_ECORRUPT
 * (a signature that does not verify), VM_ENOTSUP (an algorithm this
 * build does not verify), VM_EIO (libcrypto failed: its error queue is
 * cleared and the first reason is put in the diag where one is taken).
 */
#ifndef AT_CRYPTO_H
#define AT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"

#define AT_HASH_LEN 32          /* SHA-256 */
#define AT_SEED_LEN 32          /* a key's seed (Ed25519: its private key) */
#define AT_PUB_LEN 32           /* an Ed25519 public key */
#define AT_P256_PUB_LEN 65      /* a P-256 public key: 0x04 || x || y */
#define AT_PUB_MAX 65           /* the longest public key */
#define AT_SIG_LEN 64           /* an Ed25519 signature; ECDSA P-256's r || s */

enum at_alg {
    AT_ALG_ED25519 = 0,         /* "ed25519" */
    AT_ALG_ECDSA_P256 = 1,      /* "ecdsa-p256": ECDSA over P-256 with SHA-256 */
    AT_ALG_UNKNOWN = -1,
};

/* "ed25519" -> AT_ALG_ED25519, "ecdsa-p256" -> AT_ALG_ECDSA_P256;
 * anything else (other case, NULL) AT_ALG_UNKNOWN. */
enum at_alg at_alg_parse(const char *name);
/* "ed25519", "ecdsa-p256", or "unknown" for any other value. */
const char *at_alg_name(enum at_alg a);
/* A public key's length for alg: AT_PUB_LEN, AT_P256_PUB_LEN, 0 unknown. */
size_t at_pub_len(enum at_alg a);

/* A signing key: its algorithm, seed, public key (at_pub_len(alg) bytes
 * of pub) and libcrypto's handle (the key's own: at_key_free releases
 * it). */
struct at_key {
    enum at_alg alg;
    uint8_t seed[AT_SEED_LEN];
    uint8_t pub[AT_PUB_MAX];
    void *pkey;                 /* EVP_PKEY *, private */
};

/* Make the Ed25519 key of `seed` into *k (pub filled).  0, VM_EINVAL
 * (NULL k or seed), VM_EIO (with d).  Release it with at_key_free. */
int at_key_init(struct at_key *k, const uint8_t seed[AT_SEED_LEN], struct vm_diag *d);
/* The same for algorithm alg (Ed25519 or ECDSA P-256; the P-256 scalar
 * as the header says).  VM_EINVAL also for another alg. */
int at_key_init_alg(struct at_key *k, enum at_alg alg, const uint8_t seed[AT_SEED_LEN],
                    struct vm_diag *d);
/* The seed of key number `index` of a simulation: SHA-256 of
 * ("vmsim-key/1", u32 LE strlen(role), role, seed u64 LE, index u64 LE)
 * so that host keys, the depot's keys and the attestation nodes' keys
 * never collide.  role is a short ASCII name ("host", "depot-targets",
 * "depot-timestamp", "node"). */
void at_key_seed(uint8_t out[AT_SEED_LEN], const char *role, uint64_t seed, uint64_t index);
/* Release libcrypto's handle; the struct may be reused.  NULL-safe. */
void at_key_free(struct at_key *k);

/* Sign len bytes of msg into sig with k's algorithm (ECDSA: over
 * SHA-256(msg), r || s).  0, VM_EINVAL (no key: k->pkey NULL), VM_ENOMEM,
 * VM_EIO.  One short-lived EVP_MD_CTX per call. */
int at_sign(const struct at_key *k, const void *msg, size_t len, uint8_t sig[AT_SIG_LEN]);
/* Verify: 0 when sig is the signature of the key pub (pub_len bytes)
 * over msg by algorithm alg, VM_ECORRUPT when not (also a malformed
 * signature, a public key that is not a point of the curve, or pub_len
 * other than at_pub_len(alg): a key of another algorithm), VM_ENOTSUP for
 * an unknown algorithm (checked first), VM_EINVAL (NULL pub or sig),
 * VM_ENOMEM, VM_EIO.  libcrypto's error queue is left empty. */
int at_verify_key(enum at_alg alg, const uint8_t *pub, size_t pub_len, const void *msg,
                  size_t len, const uint8_t sig[AT_SIG_LEN]);
/* at_verify_key with an Ed25519-sized key (pub: AT_PUB_LEN bytes), as
 * depot metadata carries: any other algorithm than Ed25519 then fails
 * (VM_ENOTSUP unknown, VM_ECORRUPT a known one). */
int at_verify(enum at_alg alg, const uint8_t pub[AT_PUB_LEN], const void *msg, size_t len,
              const uint8_t sig[AT_SIG_LEN]);

/* SHA-256 of n bytes (p may be NULL when n is 0).  No allocation. */
void at_sha256(const void *p, size_t n, uint8_t out[AT_HASH_LEN]);
/* Incremental SHA-256 over several pieces (no allocation, nothing to
 * free): the struct holds libcrypto's low-level SHA256_CTX (112 bytes;
 * at_crypto.c asserts it fits), which skips EVP's per-call provider
 * fetch and context allocation.  Copying a ctx forks the hash. */
struct at_sha256_ctx { uint64_t opaque[16]; };
void at_sha256_init(struct at_sha256_ctx *c);
void at_sha256_update(struct at_sha256_ctx *c, const void *p, size_t n);
void at_sha256_final(struct at_sha256_ctx *c, uint8_t out[AT_HASH_LEN]);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void at_hex_encode(const uint8_t *p, size_t n, char *out);
/* Strict hex: exactly 2n hex digits (either case), nothing else.  0 or
 * VM_EPARSE: a non-hex character anywhere (*where = its index; checked
 * first, so "0x12" points at the 'x'), else a wrong length, odd, short
 * or long (*where = the length seen).  VM_EINVAL for NULL s.  where may
 * be NULL; out is written only on success. */
int at_hex_decode(const char *s, uint8_t *out, size_t n, size_t *where);

#endif
