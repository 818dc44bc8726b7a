/*
 * at_root.h - the depot's root role (The Update Framework specification
 * 1.0, section 4.3 "root.json"): which keys may sign each role's
 * metadata (root, timestamp, snapshot, targets) and how many of them must
 * (the role's threshold), with a version and an expiry, signed by a
 * threshold of root keys.
 *
 * A key id is the key's Ed25519 public key itself (32 bytes; TUF's key
 * id is a hash of the key's canonical form: the same one-to-one naming,
 * without the indirection).  A role lists 1..AT_ROLE_MAX_KEYS distinct
 * keys and a threshold in 1..nr_keys (at_root_check).
 *
 * Canonical bytes (what is signed): the magic "vmsim-root/1" zero-padded
 * to 24 bytes, version and expires_ns (u64 LE), then per role in enum
 * order nr_keys and threshold (u64 LE) and the key ids (32 bytes each).
 * A root carries up to AT_ROOT_MAX_SIGS signatures, each naming its key.
 *
 * Rotation (TUF 5.3.4-5.3.5): root N+1 is trusted by a client that holds
 * root N when it is signed by a threshold of root N's root keys AND a
 * threshold of its own root keys, and its version is exactly N + 1.
 * Signatures are counted once per distinct key (a key signing twice is
 * one signature: TUF 5.3.4's "unique keys").
 *
 * Errors: 0 or VM_EINVAL with a message in d (at_root_check); the
 * counting functions return counts.  No allocation anywhere.
 */
#ifndef AT_ROOT_H
#define AT_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attestation/at_crypto.h"

enum at_role { AT_ROLE_ROOT, AT_ROLE_TIMESTAMP, AT_ROLE_SNAPSHOT, AT_ROLE_TARGETS,
               AT_NR_ROLES };
/* "root", "timestamp", "snapshot", "targets"; "?" for another value. */
const char *at_role_name(enum at_role r);
/* The role named s, or AT_NR_ROLES. */
enum at_role at_role_parse(const char *s);

#define AT_ROLE_MAX_KEYS 4
#define AT_ROOT_MAX_SIGS 8

struct at_role_keys {
    uint32_t nr_keys;            /* 1..AT_ROLE_MAX_KEYS */
    uint32_t threshold;          /* 1..nr_keys */
    uint8_t keyids[AT_ROLE_MAX_KEYS][AT_PUB_LEN];
};

struct at_root {
    uint64_t version;            /* >= 1 */
    uint64_t expires_ns;         /* simulated time */
    struct at_role_keys roles[AT_NR_ROLES];
};

/* One signature over a root, naming its key. */
struct at_rootsig {
    uint8_t keyid[AT_PUB_LEN];
    enum at_alg alg;
    uint8_t sig[AT_SIG_LEN];
};
struct at_root_sigs {
    uint32_t nr;                 /* 0..AT_ROOT_MAX_SIGS */
    struct at_rootsig sig[AT_ROOT_MAX_SIGS];
};

#define AT_ROOT_ENC_MAX (24 + 16 + AT_NR_ROLES * (16 + AT_ROLE_MAX_KEYS * AT_PUB_LEN))

/* The canonical encoding into buf (at most AT_ROOT_ENC_MAX bytes): its
 * length.  nr_keys above the maximum are clamped (at_root_check refuses
 * such a root first). */
size_t at_root_encode(const struct at_root *r, uint8_t buf[AT_ROOT_ENC_MAX]);
/* Well formed: version >= 1, every role with 1..AT_ROLE_MAX_KEYS keys,
 * no key listed twice in a role, threshold in 1..nr_keys.  0 or
 * VM_EINVAL ("role 'targets': threshold 3 above its 2 keys"). */
int at_root_check(const struct at_root *r, struct vm_diag *d);
/* Key pub is one of the role's keys. */
bool at_role_has(const struct at_role_keys *rk, const uint8_t pub[AT_PUB_LEN]);
/* Add key k's signature over r to s.  0, VM_EINVAL (s full), VM_EIO. */
int at_root_sign(const struct at_root *r, const struct at_key *k, struct at_root_sigs *s);
/* The distinct keys of role rk whose signature in s verifies over r's
 * canonical bytes.  *verified (may be NULL) += the Ed25519 verifications
 * done (the cost to charge). */
uint32_t at_root_count(const struct at_role_keys *rk, const struct at_root *r,
                       const struct at_root_sigs *s, uint32_t *verified);

#endif
