/*
 * at_meta.h - the software depot's metadata: the packages it ships (name,
 * version, vendor, per-file SHA-256), signed, versioned and expiring, and
 * the rules a client applies before it believes a copy of it.
 *
 * Four signed documents, after TUF's roles (The Update Framework
 * specification 1.0, sections 4.3-4.6 and the client workflow 5.2-5.6):
 *   - root (at_root.h): the keys and threshold of every role, a version
 *     and an expiry, signed by a threshold of root keys.  A client starts
 *     from a trusted root shipped with it (TUF 5.2) and moves to root N+1
 *     only when a threshold of root N's AND of root N+1's root keys signed
 *     it and its version is exactly N + 1 (TUF 5.3.4-5.3.5).
 *   - targets: the catalog {version, expires, packages[]}, each package
 *     {name, version, vendor, withdrawn, files[{path, sha256}]}, signed by
 *     a targets key.  A withdrawn package (a version found vulnerable)
 *     stays listed with withdrawn set: a verifier refuses it.
 *   - snapshot: {version, targets_version, targets_hash, expires}, signed
 *     by a snapshot key: which targets document is current (TUF 4.4).
 *   - timestamp: {version, snapshot_version, snapshot_hash, expires},
 *     signed by the depot's online timestamp key and re-signed often with a
 *     short expiry: it says which snapshot is current (TUF 4.6).
 * A client (struct at_view) keeps its trusted root and the highest
 * versions it accepted, and refuses:
 *   - a signature that does not verify with a key the trusted root lists
 *     for the document's role, or names an unknown algorithm;
 *   - a root not signed by both thresholds (AT_META_THRESHOLD) or whose
 *     version is not exactly one more (AT_META_ROLLBACK below or equal,
 *     AT_META_BAD_VERSION above);
 *   - a version lower than one it accepted (rollback attack; TUF 5.4.3,
 *     5.5.5, 5.6.5): equal is allowed (the same document again);
 *   - a document whose expiry has passed (freeze attack; TUF 5.3.10,
 *     5.4.4, 5.5.6, 5.6.4), the trusted root's included;
 *   - a snapshot other than the accepted timestamp names, or targets
 *     other than the accepted snapshot names (mix-and-match; TUF 5.5.2,
 *     5.6.2).
 * After a root that changes the timestamp or snapshot keys, the view
 * forgets its timestamp and snapshot (both, whichever rotated: TUF
 * 5.3.11, recovery from a fast-forward attack made with a compromised
 * key) and the targets version it held: targets versions are then
 * checked only against the new snapshot (5.6.3), whose snapshot key is
 * trusted again, so a fast-forward cannot lock the view out.
 * Times are simulated nanoseconds (the port clock), not wall time.
 *
 * Canonical bytes.  A document is signed over its canonical encoding
 * (at_targets_encode, at_snapshot_encode, at_timestamp_encode,
 * at_root_encode): a magic ("vmsim-targets/1", "vmsim-snapshot/1",
 * "vmsim-timestamp/1", "vmsim-root/1" zero-padded to 24 bytes), then the
 * fields in order, integers (counts and the withdrawn flag too)
 * little-endian u64, strings u32 length + bytes, hashes 32 raw bytes,
 * packages in catalog order; data_hash is not encoded (it follows from
 * the files).  The timestamp's and snapshot's Ed25519 signatures are over
 * their 80 bytes; the targets' signature is over the targets hash
 * (SHA-256 of the encoding, streamed: no copy of a large catalog, and the
 * signature costs the same at any catalog size).  The depot metadata file
 * (sim/attestation) is parsed into these structs and its signatures
 * checked over this encoding, so the file's own spacing and key order do
 * not matter.
 *
 * The timestamp, snapshot and targets carry one signature each: a role
 * whose threshold is above 1 cannot be met by them (refused as
 * AT_META_THRESHOLD); the root carries several (at_root_sigs).
 *
 * A targets version names one document: the depot bumps the version on
 * every change (a withdrawal included), and a view refuses a snapshot
 * that names the version it knows with another hash (AT_META_MISMATCH);
 * likewise a timestamp for a snapshot version.
 *
 * Ownership: a catalog owns its packages and their files; lookups return
 * pointers valid until the catalog changes or is freed.
 */
#ifndef AT_META_H
#define AT_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attestation/at_crypto.h"
#include "attestation/at_evidence.h"
#include "attestation/at_root.h"

#define AT_PATH_MAX 96          /* a file's path in a package, NUL included */
#define AT_MAX_FILES 4096       /* per package */

struct at_file {
    char path[AT_PATH_MAX];
    uint8_t sha256[AT_HASH_LEN];
};

struct at_pkg {
    char name[AT_NAME_MAX];
    char version[AT_VERSION_MAX];
    char vendor[AT_VENDOR_MAX];
    bool withdrawn;
    uint32_t nr_files;
    struct at_file *files;      /* the catalog's */
    uint8_t data_hash[AT_HASH_LEN];   /* at_component_hash over the files' hashes */
};

/* The targets document. */
struct at_catalog {
    uint64_t version;           /* >= 1 */
    uint64_t expires_ns;        /* simulated time */
    uint32_t nr_pkgs, cap;
    struct at_pkg *pkgs;
    /* lookup index by (name, version): open addressing, the catalog's */
    uint32_t *index;
    uint32_t index_cap;
};

/* An empty catalog, version 1, expires_ns 0: set the expiry before
 * signing (a forgotten one is refused as expired, not trusted forever). */
void at_catalog_init(struct at_catalog *c);
/* Free its packages, files and index; *c is empty again.  NULL-safe. */
void at_catalog_free(struct at_catalog *c);
/* Deep copy of src into *dst (initialised by this call).  0, VM_ENOMEM. */
int at_catalog_copy(struct at_catalog *dst, const struct at_catalog *src);
/* Add a package (files copied; data_hash computed).  0, VM_EINVAL (empty
 * or too long name/version/vendor/path, nr_files 0 or > AT_MAX_FILES, a
 * package with the same name and version already there: "duplicate
 * package"), VM_ENOMEM.  The message in d. */
int at_catalog_add(struct at_catalog *c, const char *name, const char *version,
                   const char *vendor, bool withdrawn, const struct at_file *files,
                   uint32_t nr_files, struct vm_diag *d);
/* The package (name, version), or NULL.  O(1): the index. */
const struct at_pkg *at_catalog_find(const struct at_catalog *c, const char *name,
                                     const char *version);
/* Mark (name, version) withdrawn.  0 or VM_ENOENT. */
int at_catalog_withdraw(struct at_catalog *c, const char *name, const char *version);
/* Bytes of the canonical encoding (what the wire carries). */
size_t at_targets_size(const struct at_catalog *c);
/* The canonical encoding into a malloc'd buffer (*len set); NULL on no
 * memory.  The caller frees it. */
uint8_t *at_targets_encode(const struct at_catalog *c, size_t *len);
/* SHA-256 of the canonical encoding (what the timestamp names). */
void at_targets_hash(const struct at_catalog *c, uint8_t out[AT_HASH_LEN]);

/* The snapshot document: the targets version and hash it names. */
struct at_snapshot {
    uint64_t version;
    uint64_t targets_version;
    uint8_t targets_hash[AT_HASH_LEN];
    uint64_t expires_ns;
};
#define AT_SNAPSHOT_ENC_LEN (24 + 8 * 3 + AT_HASH_LEN)
/* Canonical encoding into buf (AT_SNAPSHOT_ENC_LEN bytes); returns it. */
size_t at_snapshot_encode(const struct at_snapshot *s, uint8_t *buf);
/* SHA-256 of the canonical encoding (what the timestamp names). */
void at_snapshot_hash(const struct at_snapshot *s, uint8_t out[AT_HASH_LEN]);

/* The timestamp document: the snapshot version and hash it names. */
struct at_timestamp {
    uint64_t version;
    uint64_t snapshot_version;
    uint8_t snapshot_hash[AT_HASH_LEN];
    uint64_t expires_ns;
};
#define AT_TIMESTAMP_ENC_LEN (24 + 8 * 3 + AT_HASH_LEN)
/* Canonical encoding into buf (AT_TIMESTAMP_ENC_LEN bytes); returns it. */
size_t at_timestamp_encode(const struct at_timestamp *t, uint8_t *buf);

/* A signature over a document: the algorithm it names and the bytes. */
struct at_sigblock {
    enum at_alg alg;
    uint8_t sig[AT_SIG_LEN];
};

/* Sign the targets / snapshot / timestamp document with key k.  0,
 * VM_EIO, VM_ENOMEM. */
int at_targets_sign(const struct at_catalog *c, const struct at_key *k, struct at_sigblock *out);
int at_snapshot_sign(const struct at_snapshot *s, const struct at_key *k,
                     struct at_sigblock *out);
int at_timestamp_sign(const struct at_timestamp *t, const struct at_key *k,
                      struct at_sigblock *out);

/* Why a depot document was refused (0: accepted). */
enum at_meta_err {
    AT_META_OK = 0,
    AT_META_BAD_SIG,            /* the signature does not verify */
    AT_META_UNKNOWN_ALG,        /* the signature names an algorithm we do not know */
    AT_META_ROLLBACK,           /* a version lower than one accepted before */
    AT_META_EXPIRED,            /* its expiry has passed (a frozen view) */
    AT_META_MISMATCH,           /* a snapshot / targets other than the accepted
                                 * timestamp / snapshot names */
    AT_META_THRESHOLD,          /* a root without both thresholds of signatures, or a
                                 * role whose threshold one signature cannot meet */
    AT_META_BAD_VERSION,        /* a root version more than one above the trusted one */
};
#define AT_META_NR_ERR 8
/* "ok", "bad_sig", "unknown_alg", "rollback", "expired", "mismatch",
 * "threshold", "bad_version"; "unknown" for another value. */
const char *at_meta_err_name(enum at_meta_err e);

/* A client's trusted view of the depot: its trusted root (the keys of
 * every role), the highest versions it accepted and when they expire. */
struct at_view {
    struct at_root root;
    uint64_t ts_version;        /* 0: none accepted yet (or forgotten: TUF 5.3.11) */
    uint64_t ts_expires_ns;
    uint64_t snap_version;      /* the snapshot version the accepted timestamp names */
    uint8_t snap_hash[AT_HASH_LEN];
    uint64_t have_snap;         /* the snapshot version held (0: none) */
    uint64_t snap_expires_ns;
    uint64_t targets_version;   /* the version the accepted snapshot names */
    uint8_t targets_hash[AT_HASH_LEN];
    uint64_t have_targets;      /* the targets version held (0: none) */
    uint64_t targets_expires_ns;
};

/* A view that trusts root `trusted` (copied; the root shipped with the
 * client, TUF 5.2) and holds nothing else. */
void at_view_init(struct at_view *v, const struct at_root *trusted);
/* at_view_init after checking the shipped root as a TUF client loading
 * its trusted root does (5.2; python-tuf's _load_trusted_root): well
 * formed (at_root_check) and signed by a threshold of its own root keys
 * in s; else AT_META_THRESHOLD and v untouched.  Costs one Ed25519
 * verification per signature of s by a root key (not charged: nodes do
 * it before the run). */
enum at_meta_err at_view_trust(struct at_view *v, const struct at_root *trusted,
                               const struct at_root_sigs *s);
/* Update the trusted root to r (TUF 5.3.3-5.3.11): r well formed
 * (at_root_check, else AT_META_THRESHOLD), version exactly root + 1
 * (lower or equal: ROLLBACK; higher: BAD_VERSION), a threshold of the
 * trusted root's root keys and of r's own root keys signed it
 * (THRESHOLD).  Expiry is not checked here (TUF checks the final root
 * only: at_view_timestamp refuses while the trusted root is expired).  On
 * OK the view trusts r; if r changed the timestamp or snapshot keys the
 * accepted timestamp, snapshot and targets versions are all forgotten.  *verified
 * (may be NULL) += the Ed25519 verifications done.  Unchanged on a
 * refusal. */
enum at_meta_err at_view_root(struct at_view *v, const struct at_root *r,
                              const struct at_root_sigs *s, uint32_t *verified);
/* Verify a single signature over msg by a key of the trusted root's
 * role: OK, UNKNOWN_ALG, BAD_SIG (no key of the role verifies), THRESHOLD
 * (the role's threshold is above 1).  *verified (may be NULL) += the
 * verifications done. */
enum at_meta_err at_view_check_sig(const struct at_view *v, enum at_role role, const void *msg,
                                   size_t len, const struct at_sigblock *s, uint32_t *verified);
/* Accept a timestamp at time now: the trusted root unexpired (EXPIRED),
 * signature by the timestamp role, rollback of its version and of the
 * snapshot version it names, expiry (refused when now >= expires_ns),
 * and the same snapshot version with another hash (MISMATCH).  On
 * AT_META_OK the view moves to it; on a refusal the view is unchanged. */
enum at_meta_err at_view_timestamp(struct at_view *v, const struct at_timestamp *t,
                                   const struct at_sigblock *s, uint64_t now_ns);
/* Accept a snapshot at time now (TUF 5.5): version and hash equal to what
 * the accepted timestamp names (MISMATCH; also with no timestamp yet),
 * signature by the snapshot role, rollback (version below have_snap, or
 * a targets version below the one named before), expiry.  On OK the view
 * holds it; unchanged on a refusal. */
enum at_meta_err at_view_snapshot(struct at_view *v, const struct at_snapshot *sn,
                                  const struct at_sigblock *s, uint64_t now_ns);
/* Accept a targets document at time now, in TUF 5.6's order: hash equal
 * to what the accepted snapshot names (MISMATCH; also with no snapshot),
 * signature by the targets role, version equal to the one the snapshot
 * names (MISMATCH), rollback (below have_targets: unreachable after the
 * snapshot's own check, kept as a guard), expiry.  On AT_META_OK the view holds it
 * (have_targets); on a refusal the view is unchanged.  Cost: one SHA-256
 * over the encoding and one Ed25519 verification. */
enum at_meta_err at_view_targets(struct at_view *v, const struct at_catalog *c,
                                 const struct at_sigblock *s, uint64_t now_ns);
/* The view may be used at now: the root, a timestamp, the snapshot it
 * names and the targets that names are held and none has expired. */
bool at_view_fresh(const struct at_view *v, uint64_t now_ns);

#endif
