/*
 * at_meta.c - the depot's signed metadata (at_meta.h): the package
 * catalog with its (name, version) index, the canonical encodings of the
 * targets and timestamp documents, their signatures, and the client's
 * view that applies TUF's rules before believing them.
 *
 * One walk over the catalog (enc_catalog) feeds a sink that counts bytes
 * (at_targets_size), copies them (at_targets_encode) or hashes them
 * (at_targets_hash), so the three never disagree and hashing a large
 * catalog allocates nothing.  The targets signature is Ed25519 over the
 * targets hash (the SHA-256 of the canonical encoding, the value the
 * timestamp names): the catalog is hashed once, and the signature costs
 * what one over 32 bytes costs whatever the catalog's size.
 *
 * The index is open addressing with linear probing over a power-of-two
 * table at most half full; slots hold package number + 1 (0: empty).
 * Packages are never removed (a withdrawn one stays listed), so there
 * are no tombstones.  Its hash (FNV-1a) only spreads buckets; nothing is
 * trusted on it, and lookups compare the strings.
 *
 * The view follows TUF's client workflow (specification 1.0, 5.3 root,
 * 5.4 timestamp, 5.5 snapshot, 5.6 targets); the root role's documents
 * are at_root.c's.
 *
 * Not modelled: delegations, consistent snapshots, several signatures on
 * a timestamp, snapshot or targets document (the root carries several).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "attestation/at_meta.h"

void at_catalog_init(struct at_catalog *c)
{
    memset(c, 0, sizeof *c);
    c->version = 1;
}

void at_catalog_free(struct at_catalog *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nr_pkgs; i++)
        free(c->pkgs[i].files);
    free(c->pkgs);
    free(c->index);
    at_catalog_init(c);
}

/* --------------------------------------------------------------- index */

static uint64_t key_hash(const char *name, const char *version)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;      /* separator: no byte of a name */
    for (const char *p = version; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

/* The slot holding (name, version), or the empty slot where it would go.
 * The table is never full (at most half), so the probe ends. */
static uint32_t index_slot(const struct at_catalog *c, const char *name, const char *version)
{
    uint32_t mask = c->index_cap - 1;
    uint32_t i = (uint32_t)key_hash(name, version) & mask;
    for (;;) {
        uint32_t v = c->index[i];
        if (v == 0)
            return i;
        const struct at_pkg *p = &c->pkgs[v - 1];
        if (strcmp(p->name, name) == 0 && strcmp(p->version, version) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int index_grow(struct at_catalog *c, uint32_t need)
{
    if ((uint64_t)need * 2 <= c->index_cap)
        return 0;
    uint64_t cap = c->index_cap ? c->index_cap : 16;
    while (cap < (uint64_t)need * 2)
        cap *= 2;
    if (cap > (1ull << 31))
        return VM_ENOMEM;
    uint32_t *ix = calloc((size_t)cap, sizeof *ix);
    if (!ix)
        return VM_ENOMEM;
    free(c->index);
    c->index = ix;
    c->index_cap = (uint32_t)cap;
    for (uint32_t k = 0; k < c->nr_pkgs; k++)
        c->index[index_slot(c, c->pkgs[k].name, c->pkgs[k].version)] = k + 1;
    return 0;
}

static struct at_pkg *find(const struct at_catalog *c, const char *name, const char *version)
{
    if (!c->index_cap || !name || !version)
        return NULL;
    uint32_t v = c->index[index_slot(c, name, version)];
    return v ? &c->pkgs[v - 1] : NULL;
}

const struct at_pkg *at_catalog_find(const struct at_catalog *c, const char *name,
                                     const char *version)
{
    return find(c, name, version);
}

int at_catalog_withdraw(struct at_catalog *c, const char *name, const char *version)
{
    struct at_pkg *p = find(c, name, version);
    if (!p)
        return VM_ENOENT;
    p->withdrawn = true;
    return 0;
}

/* ------------------------------------------------------------ catalog */

/* A string field: present, and short enough for its NUL. */
static int check_str(const char *what, const char *s, size_t max, struct vm_diag *d)
{
    if (!s || !*s)
        return vm_diag_set(d, VM_EINVAL, "empty package %s", what);
    if (strnlen(s, max) >= max)
        return vm_diag_set(d, VM_EINVAL, "package %s '%.*s...' longer than %zu bytes",
                           what, 16, s, max - 1);
    return 0;
}

int at_catalog_add(struct at_catalog *c, const char *name, const char *version,
                   const char *vendor, bool withdrawn, const struct at_file *files,
                   uint32_t nr_files, struct vm_diag *d)
{
    int rc;
    if ((rc = check_str("name", name, AT_NAME_MAX, d)) ||
        (rc = check_str("version", version, AT_VERSION_MAX, d)) ||
        (rc = check_str("vendor", vendor, AT_VENDOR_MAX, d)))
        return rc;
    if (nr_files == 0 || !files)
        return vm_diag_set(d, VM_EINVAL, "package '%s' version '%s': no files", name, version);
    if (nr_files > AT_MAX_FILES)
        return vm_diag_set(d, VM_EINVAL, "package '%s' version '%s': %u files, at most %d",
                           name, version, nr_files, AT_MAX_FILES);
    for (uint32_t i = 0; i < nr_files; i++) {
        size_t n = strnlen(files[i].path, AT_PATH_MAX);
        if (n == 0 || n >= AT_PATH_MAX)
            return n ? vm_diag_set(d, VM_EINVAL, "package '%s' version '%s': file %u: path "
                                   "longer than %d bytes", name, version, i, AT_PATH_MAX - 1)
                     : vm_diag_set(d, VM_EINVAL, "package '%s' version '%s': file %u: empty path",
                                   name, version, i);
    }
    if (find(c, name, version))
        return vm_diag_set(d, VM_EINVAL, "duplicate package '%s' version '%s'", name, version);
    if (c->nr_pkgs == UINT32_MAX - 1)
        return vm_diag_set(d, VM_ENOMEM, "too many packages");
    if (c->nr_pkgs == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 16;
        if (cap < c->cap)
            cap = UINT32_MAX - 1;
        struct at_pkg *np = realloc(c->pkgs, (size_t)cap * sizeof *np);
        if (!np)
            return vm_diag_set(d, VM_ENOMEM, "no memory for %u packages", cap);
        c->pkgs = np;
        c->cap = cap;
    }
    if (index_grow(c, c->nr_pkgs + 1))
        return vm_diag_set(d, VM_ENOMEM, "no memory for the package index");
    struct at_file *fc = malloc((size_t)nr_files * sizeof *fc);
    if (!fc)
        return vm_diag_set(d, VM_ENOMEM, "no memory for %u files", nr_files);
    memcpy(fc, files, (size_t)nr_files * sizeof *fc);
    struct at_pkg *p = &c->pkgs[c->nr_pkgs];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);          /* lengths checked above */
    strcpy(p->version, version);
    strcpy(p->vendor, vendor);
    p->withdrawn = withdrawn;
    p->nr_files = nr_files;
    p->files = fc;
    struct at_sha256_ctx h;
    at_sha256_init(&h);
    for (uint32_t i = 0; i < nr_files; i++)
        at_sha256_update(&h, fc[i].sha256, AT_HASH_LEN);
    at_sha256_final(&h, p->data_hash);
    c->index[index_slot(c, name, version)] = c->nr_pkgs + 1;
    c->nr_pkgs++;
    return 0;
}

int at_catalog_copy(struct at_catalog *dst, const struct at_catalog *src)
{
    at_catalog_init(dst);
    dst->version = src->version;
    dst->expires_ns = src->expires_ns;
    if (src->nr_pkgs == 0)
        return 0;
    dst->pkgs = malloc((size_t)src->nr_pkgs * sizeof *dst->pkgs);
    dst->index = malloc((size_t)src->index_cap * sizeof *dst->index);
    if (!dst->pkgs || !dst->index)
        goto nomem;
    dst->cap = src->nr_pkgs;
    dst->index_cap = src->index_cap;
    memcpy(dst->index, src->index, (size_t)src->index_cap * sizeof *dst->index);
    for (uint32_t i = 0; i < src->nr_pkgs; i++) {
        const struct at_pkg *sp = &src->pkgs[i];
        struct at_file *fc = malloc((size_t)sp->nr_files * sizeof *fc);
        if (!fc)
            goto nomem;
        memcpy(fc, sp->files, (size_t)sp->nr_files * sizeof *fc);
        dst->pkgs[i] = *sp;
        dst->pkgs[i].files = fc;
        dst->nr_pkgs = i + 1;       /* so at_catalog_free frees what was copied */
    }
    return 0;
nomem:
    at_catalog_free(dst);
    return VM_ENOMEM;
}

/* ----------------------------------------------------------- encoding */

/* Where canonical bytes go: counted, copied into buf, or hashed. */
struct sink {
    size_t len;
    uint8_t *buf;                   /* NULL: not copied */
    struct at_sha256_ctx *sha;      /* NULL: not hashed */
};

static void put(struct sink *s, const void *p, size_t n)
{
    if (s->buf)
        memcpy(s->buf + s->len, p, n);
    if (s->sha)
        at_sha256_update(s->sha, p, n);
    s->len += n;
}

static void put_u64(struct sink *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(s, b, 8);
}

static void put_str(struct sink *s, const char *str, size_t field_size)
{
    size_t n = strnlen(str, field_size);
    uint8_t b[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24) };
    put(s, b, 4);
    put(s, str, n);
}

static const char targets_magic[] = "vmsim-targets/1";
static const char timestamp_magic[] = "vmsim-timestamp/1";
static const char snapshot_magic[] = "vmsim-snapshot/1";

/* magic, version, expires_ns, nr_pkgs, then per package: name, version,
 * vendor, withdrawn (0/1), nr_files, then per file: path, 32-byte hash.
 * data_hash is not encoded: it follows from the file hashes. */
static void enc_catalog(const struct at_catalog *c, struct sink *s)
{
    put(s, targets_magic, sizeof targets_magic - 1);
    put_u64(s, c->version);
    put_u64(s, c->expires_ns);
    put_u64(s, c->nr_pkgs);
    for (uint32_t i = 0; i < c->nr_pkgs; i++) {
        const struct at_pkg *p = &c->pkgs[i];
        put_str(s, p->name, sizeof p->name);
        put_str(s, p->version, sizeof p->version);
        put_str(s, p->vendor, sizeof p->vendor);
        put_u64(s, p->withdrawn ? 1 : 0);
        put_u64(s, p->nr_files);
        for (uint32_t f = 0; f < p->nr_files; f++) {
            put_str(s, p->files[f].path, sizeof p->files[f].path);
            put(s, p->files[f].sha256, AT_HASH_LEN);
        }
    }
}

size_t at_targets_size(const struct at_catalog *c)
{
    struct sink s = { 0 };
    enc_catalog(c, &s);
    return s.len;
}

uint8_t *at_targets_encode(const struct at_catalog *c, size_t *len)
{
    size_t n = at_targets_size(c);
    struct sink s = { .buf = malloc(n) };
    if (!s.buf)
        return NULL;
    enc_catalog(c, &s);
    assert(s.len == n && "one walk both counts and writes");
    if (len)
        *len = n;
    return s.buf;
}

void at_targets_hash(const struct at_catalog *c, uint8_t out[AT_HASH_LEN])
{
    struct at_sha256_ctx h;
    struct sink s = { .sha = &h };
    at_sha256_init(&h);
    enc_catalog(c, &s);
    at_sha256_final(&h, out);
}

/* The magic is zero-padded to 24 bytes, then version, the named
 * version, the named hash, expires_ns: the timestamp's and the
 * snapshot's layout. */
static size_t enc_small(const char *magic, size_t mlen, uint64_t version, uint64_t named,
                        const uint8_t hash[AT_HASH_LEN], uint64_t expires, uint8_t *buf)
{
    struct sink s = { .buf = buf };
    uint8_t m[24] = { 0 };
    memcpy(m, magic, mlen);
    put(&s, m, sizeof m);
    put_u64(&s, version);
    put_u64(&s, named);
    put(&s, hash, AT_HASH_LEN);
    put_u64(&s, expires);
    return s.len;
}

size_t at_timestamp_encode(const struct at_timestamp *t, uint8_t *buf)
{
    static_assert(sizeof timestamp_magic <= 24, "the magic fits its 24 bytes");
    size_t n = enc_small(timestamp_magic, sizeof timestamp_magic - 1, t->version,
                         t->snapshot_version, t->snapshot_hash, t->expires_ns, buf);
    assert(n == AT_TIMESTAMP_ENC_LEN && "the timestamp has a fixed size");
    return n;
}

size_t at_snapshot_encode(const struct at_snapshot *sn, uint8_t *buf)
{
    static_assert(sizeof snapshot_magic <= 24, "the magic fits its 24 bytes");
    size_t n = enc_small(snapshot_magic, sizeof snapshot_magic - 1, sn->version,
                         sn->targets_version, sn->targets_hash, sn->expires_ns, buf);
    assert(n == AT_SNAPSHOT_ENC_LEN && "the snapshot has a fixed size");
    return n;
}

void at_snapshot_hash(const struct at_snapshot *sn, uint8_t out[AT_HASH_LEN])
{
    uint8_t buf[AT_SNAPSHOT_ENC_LEN];
    at_sha256(buf, at_snapshot_encode(sn, buf), out);
}

/* ---------------------------------------------------------- signatures */

int at_targets_sign(const struct at_catalog *c, const struct at_key *k, struct at_sigblock *out)
{
    uint8_t h[AT_HASH_LEN];
    at_targets_hash(c, h);
    out->alg = AT_ALG_ED25519;
    return at_sign(k, h, sizeof h, out->sig);
}

int at_snapshot_sign(const struct at_snapshot *sn, const struct at_key *k,
                     struct at_sigblock *out)
{
    uint8_t buf[AT_SNAPSHOT_ENC_LEN];
    size_t n = at_snapshot_encode(sn, buf);
    out->alg = AT_ALG_ED25519;
    return at_sign(k, buf, n, out->sig);
}

int at_timestamp_sign(const struct at_timestamp *t, const struct at_key *k,
                      struct at_sigblock *out)
{
    uint8_t buf[AT_TIMESTAMP_ENC_LEN];
    size_t n = at_timestamp_encode(t, buf);
    out->alg = AT_ALG_ED25519;
    return at_sign(k, buf, n, out->sig);
}

/* ---------------------------------------------------------------- view */

const char *at_meta_err_name(enum at_meta_err e)
{
    switch (e) {
    case AT_META_OK: return "ok";
    case AT_META_BAD_SIG: return "bad_sig";
    case AT_META_UNKNOWN_ALG: return "unknown_alg";
    case AT_META_ROLLBACK: return "rollback";
    case AT_META_EXPIRED: return "expired";
    case AT_META_MISMATCH: return "mismatch";
    case AT_META_THRESHOLD: return "threshold";
    case AT_META_BAD_VERSION: return "bad_version";
    }
    return "unknown";
}

void at_view_init(struct at_view *v, const struct at_root *trusted)
{
    memset(v, 0, sizeof *v);
    v->root = *trusted;
}

enum at_meta_err at_view_trust(struct at_view *v, const struct at_root *trusted,
                               const struct at_root_sigs *s)
{
    /* 5.2 (python-tuf's _load_trusted_root): the shipped root is well
     * formed and signed by a threshold of its own root keys */
    if (at_root_check(trusted, NULL) != 0 ||
        at_root_count(&trusted->roles[AT_ROLE_ROOT], trusted, s, NULL) <
            trusted->roles[AT_ROLE_ROOT].threshold)
        return AT_META_THRESHOLD;
    at_view_init(v, trusted);
    return AT_META_OK;
}

static bool same_keys(const struct at_role_keys *a, const struct at_role_keys *b)
{
    if (a->nr_keys != b->nr_keys || a->threshold != b->threshold)
        return false;
    for (uint32_t i = 0; i < a->nr_keys && i < AT_ROLE_MAX_KEYS; i++)
        if (!at_role_has(b, a->keyids[i]))
            return false;
    return true;
}

enum at_meta_err at_view_root(struct at_view *v, const struct at_root *r,
                              const struct at_root_sigs *s, uint32_t *verified)
{
    if (at_root_check(r, NULL) != 0)
        return AT_META_THRESHOLD;
    /* 5.3.4: a threshold of the trusted root's root keys, then 5.3.4 again
     * with the new root's own keys (both must hold) */
    const struct at_role_keys *old_k = &v->root.roles[AT_ROLE_ROOT];
    const struct at_role_keys *new_k = &r->roles[AT_ROLE_ROOT];
    if (at_root_count(old_k, r, s, verified) < old_k->threshold ||
        at_root_count(new_k, r, s, verified) < new_k->threshold)
        return AT_META_THRESHOLD;
    /* 5.3.5: exactly N + 1 */
    if (r->version <= v->root.version)
        return AT_META_ROLLBACK;
    if (r->version != v->root.version + 1)
        return AT_META_BAD_VERSION;
    /* 5.3.11: if the timestamp and/or snapshot keys rotated, delete the
     * trusted timestamp and snapshot (both, whichever rotated), forgetting
     * the versions a compromised key may have fast-forwarded.  The targets
     * version is then checked only against the new snapshot's meta (5.6.3;
     * python-tuf's update_delegated_targets), so the targets version held
     * is forgotten too: keeping it would refuse the depot's real snapshots
     * as rollbacks for ever after a fast-forward by the old snapshot and
     * targets keys. */
    if (!same_keys(&v->root.roles[AT_ROLE_TIMESTAMP], &r->roles[AT_ROLE_TIMESTAMP]) ||
        !same_keys(&v->root.roles[AT_ROLE_SNAPSHOT], &r->roles[AT_ROLE_SNAPSHOT])) {
        v->ts_version = 0;
        v->ts_expires_ns = 0;
        v->snap_version = 0;
        memset(v->snap_hash, 0, AT_HASH_LEN);
        v->have_snap = 0;
        v->snap_expires_ns = 0;
        v->targets_version = 0;
        memset(v->targets_hash, 0, AT_HASH_LEN);
        v->have_targets = 0;
        v->targets_expires_ns = 0;
    }
    v->root = *r;
    return AT_META_OK;
}

enum at_meta_err at_view_check_sig(const struct at_view *v, enum at_role role, const void *msg,
                                   size_t len, const struct at_sigblock *s, uint32_t *verified)
{
    if (s->alg != AT_ALG_ED25519)
        return AT_META_UNKNOWN_ALG;
    const struct at_role_keys *rk = &v->root.roles[role];
    if (rk->threshold > 1)
        return AT_META_THRESHOLD;  /* one signature cannot meet it */
    for (uint32_t i = 0; i < rk->nr_keys && i < AT_ROLE_MAX_KEYS; i++) {
        if (verified)
            (*verified)++;
        int rc = at_verify(s->alg, rk->keyids[i], msg, len, s->sig);
        if (rc == VM_ENOTSUP)
            return AT_META_UNKNOWN_ALG;
        if (rc == 0)
            return AT_META_OK;
    }
    return AT_META_BAD_SIG;
}

enum at_meta_err at_view_timestamp(struct at_view *v, const struct at_timestamp *t,
                                   const struct at_sigblock *s, uint64_t now_ns)
{
    if (now_ns >= v->root.expires_ns)
        return AT_META_EXPIRED;    /* 5.3.10: an expired root stops the update */
    uint8_t buf[AT_TIMESTAMP_ENC_LEN];
    size_t n = at_timestamp_encode(t, buf);
    enum at_meta_err e = at_view_check_sig(v, AT_ROLE_TIMESTAMP, buf, n, s, NULL);
    if (e)
        return e;
    if (t->version < v->ts_version || t->snapshot_version < v->snap_version)
        return AT_META_ROLLBACK;
    if (now_ns >= t->expires_ns)
        return AT_META_EXPIRED;
    /* One snapshot version names one document: a timestamp that names the
     * version we were told of with another hash is a depot publishing two
     * snapshots under one number (or a forged one); neither is believed. */
    if (v->ts_version && t->snapshot_version == v->snap_version &&
        CRYPTO_memcmp(t->snapshot_hash, v->snap_hash, AT_HASH_LEN) != 0)
        return AT_META_MISMATCH;
    v->ts_version = t->version;
    v->ts_expires_ns = t->expires_ns;
    v->snap_version = t->snapshot_version;
    memcpy(v->snap_hash, t->snapshot_hash, AT_HASH_LEN);
    return AT_META_OK;
}

enum at_meta_err at_view_snapshot(struct at_view *v, const struct at_snapshot *sn,
                                  const struct at_sigblock *s, uint64_t now_ns)
{
    uint8_t buf[AT_SNAPSHOT_ENC_LEN], h[AT_HASH_LEN];
    size_t n = at_snapshot_encode(sn, buf);
    at_sha256(buf, n, h);
    /* 5.5.2: the hash and version the timestamp names */
    if (v->ts_version == 0 || sn->version != v->snap_version ||
        CRYPTO_memcmp(h, v->snap_hash, AT_HASH_LEN) != 0)
        return AT_META_MISMATCH;
    enum at_meta_err e = at_view_check_sig(v, AT_ROLE_SNAPSHOT, buf, n, s, NULL);
    if (e)
        return e;
    /* 5.5.5: no snapshot or targets version below what was trusted */
    if (sn->version < v->have_snap || sn->targets_version < v->targets_version ||
        sn->targets_version < v->have_targets)
        return AT_META_ROLLBACK;
    if (now_ns >= sn->expires_ns)
        return AT_META_EXPIRED;
    if (v->have_snap && sn->targets_version == v->targets_version &&
        CRYPTO_memcmp(sn->targets_hash, v->targets_hash, AT_HASH_LEN) != 0)
        return AT_META_MISMATCH;
    v->have_snap = sn->version;
    v->snap_expires_ns = sn->expires_ns;
    v->targets_version = sn->targets_version;
    memcpy(v->targets_hash, sn->targets_hash, AT_HASH_LEN);
    return AT_META_OK;
}

enum at_meta_err at_view_targets(struct at_view *v, const struct at_catalog *c,
                                 const struct at_sigblock *s, uint64_t now_ns)
{
    /* TUF 5.6's order (python-tuf's update_delegated_targets too): the
     * hash the snapshot names (5.6.1), the signature (5.6.2), the version
     * the snapshot names (5.6.3), expiry (5.6.4).  A document other than
     * the one named is thus refused as MISMATCH whatever else is wrong. */
    uint8_t h[AT_HASH_LEN];
    at_targets_hash(c, h);
    if (v->have_snap == 0 || v->have_snap != v->snap_version ||
        CRYPTO_memcmp(h, v->targets_hash, AT_HASH_LEN) != 0)
        return AT_META_MISMATCH;
    enum at_meta_err e = at_view_check_sig(v, AT_ROLE_TARGETS, h, sizeof h, s, NULL);
    if (e)
        return e;
    if (c->version != v->targets_version)
        return AT_META_MISMATCH;
    /* defence in depth: the snapshot already refused a targets version
     * below the one held (5.5.5) */
    if (c->version < v->have_targets)
        return AT_META_ROLLBACK;
    if (now_ns >= c->expires_ns)
        return AT_META_EXPIRED;
    v->have_targets = c->version;
    v->targets_expires_ns = c->expires_ns;
    return AT_META_OK;
}

bool at_view_fresh(const struct at_view *v, uint64_t now_ns)
{
    return v->ts_version != 0 && v->have_snap != 0 && v->have_snap == v->snap_version &&
           v->have_targets != 0 && v->have_targets == v->targets_version &&
           now_ns < v->root.expires_ns && now_ns < v->ts_expires_ns &&
           now_ns < v->snap_expires_ns && now_ns < v->targets_expires_ns;
}
