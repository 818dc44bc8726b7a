/*
 * at_meta.h - the software depot's metadata: the packages it ships (name,
 * version, vendor, per-file SHA-256), signed, versioned and expiring, and
 * the rules a client applies before it believes a copy of it.
 *
 * Two signed documents, after TUF's roles (The Update Framework
 * specification 1.0, sections 4.4-4.6 and 5.3-5.5):
 *   - targets: the catalog {version, expires, packages[]}, each package
 *     {name, version, vendor, withdrawn, files[{path, sha256}]}, signed by
 *     the depot's targets key.  A withdrawn package (a version found
 *     vulnerable) stays listed with withdrawn set: a verifier refuses it.
 *   - timestamp: {version, targets_version, targets_hash, expires}, signed
 *     by the depot's online timestamp key and re-signed often with a short
 *     expiry: it says which targets version is current.
 * A client (struct at_view) keeps the highest versions it accepted and
 * refuses:
 *   - a signature that does not verify or names an unknown algorithm;
 *   - a version lower than one it accepted (rollback attack; TUF 5.3.5,
 *     5.4.3): equal is allowed (the same document again);
 *   - a document whose expiry has passed (freeze attack; TUF 5.3.10);
 *   - targets whose hash or version is not what the accepted timestamp
 *     names (mix-and-match; TUF 5.5.2).
 * Times are simulated nanoseconds (the port clock), not wall time.
 *
 * Canonical bytes.  A document is signed over its canonical encoding
 * (at_targets_encode, at_timestamp_encode): a magic ("vmsim-targets/1",
 * "vmsim-timestamp/1" zero-padded to 24 bytes), then the fields in
 * order, integers (counts and the withdrawn flag too) little-endian u64,
 * strings u32 length + bytes, hashes 32 raw bytes, packages in catalog
 * order; data_hash is not encoded (it follows from the files).  The
 * timestamp's Ed25519 signature is over its 80 bytes; the targets'
 * signature is over the targets hash (SHA-256 of the encoding, streamed:
 * no copy of a large catalog, and the signature costs the same at any
 * catalog size).  The depot
 * metadata file (sim/attestation) is parsed into a catalog and its
 * signature checked over this encoding, so the file's own spacing and key
 * order do not matter.
 *
 * A targets version names one document: the depot bumps the version on
 * every change (a withdrawal included), and a view refuses a timestamp
 * that names the version it knows with another hash (AT_META_MISMATCH).
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

/* The timestamp document. */
struct at_timestamp {
    uint64_t version;
    uint64_t targets_version;
    uint8_t targets_hash[AT_HASH_LEN];
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

/* Sign the targets / timestamp document with key k.  0, VM_EIO, VM_ENOMEM. */
int at_targets_sign(const struct at_catalog *c, const struct at_key *k, struct at_sigblock *out);
int at_timestamp_sign(const struct at_timestamp *t, const struct at_key *k,
                      struct at_sigblock *out);

/* Why a depot document was refused (0: accepted). */
enum at_meta_err {
    AT_META_OK = 0,
    AT_META_BAD_SIG,            /* the signature does not verify */
    AT_META_UNKNOWN_ALG,        /* the signature names an algorithm we do not know */
    AT_META_ROLLBACK,           /* a version lower than one accepted before */
    AT_META_EXPIRED,            /* its expiry has passed (a frozen view) */
    AT_META_MISMATCH,           /* targets other than the accepted timestamp names */
};
/* "ok", "bad_sig", "unknown_alg", "rollback", "expired", "mismatch";
 * "unknown" for another value. */
const char *at_meta_err_name(enum at_meta_err e);

/* A client's trusted view of the depot: the keys it trusts (pinned, as
 * TUF's root pins them), the highest versions it accepted and when they
 * expire. */
struct at_view {
    uint8_t targets_pub[AT_PUB_LEN];
    uint8_t timestamp_pub[AT_PUB_LEN];
    uint64_t ts_version;        /* 0: none accepted yet */
    uint64_t ts_expires_ns;
    uint64_t targets_version;   /* the version the accepted timestamp names */
    uint8_t targets_hash[AT_HASH_LEN];
    uint64_t have_targets;      /* the targets version held (0: none) */
    uint64_t targets_expires_ns;
};

void at_view_init(struct at_view *v, const uint8_t targets_pub[AT_PUB_LEN],
                  const uint8_t timestamp_pub[AT_PUB_LEN]);
/* Accept a timestamp at time now: algorithm, signature, rollback of its
 * version and of the targets version it names, expiry (refused when
 * now >= expires_ns), and the same targets version with another hash
 * (MISMATCH).  On AT_META_OK the view moves to it; on a refusal the view
 * is unchanged. */
enum at_meta_err at_view_timestamp(struct at_view *v, const struct at_timestamp *t,
                                   const struct at_sigblock *s, uint64_t now_ns);
/* Accept a targets document at time now: algorithm, signature, rollback
 * (below have_targets), expiry, and hash and version equal to what the
 * accepted timestamp names (a view with no timestamp yet refuses with
 * AT_META_MISMATCH).  On AT_META_OK the view holds it (have_targets);
 * on a refusal the view is unchanged.  Cost: one SHA-256 over the
 * encoding and one Ed25519 verification. */
enum at_meta_err at_view_targets(struct at_view *v, const struct at_catalog *c,
                                 const struct at_sigblock *s, uint64_t now_ns);
/* The view may be used at now: a timestamp and the targets it names are
 * held (have_targets == targets_version) and neither has expired. */
bool at_view_fresh(const struct at_view *v, uint64_t now_ns);

#endif
