/*
 * check_at_meta.c - the depot's metadata alone: the catalog (add, find,
 * withdraw, duplicates and limits refused with a message, deep copy),
 * the canonical encodings (deterministic, changed by every field), and
 * a client view applying TUF's rules with real signatures: each refusal
 * (bad signature, unknown algorithm, rollback of either document,
 * expiry of either, mix-and-match, targets before any timestamp) and the
 * acceptances around them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_meta.h"

#define S 1000000000ull

static void files_of(struct at_file *f, uint32_t n, const char *pkg)
{
    memset(f, 0, (size_t)n * sizeof *f);
    for (uint32_t i = 0; i < n; i++) {
        char buf[AT_PATH_MAX];
        snprintf(f[i].path, sizeof f[i].path, "/opt/%s/file%u", pkg, i);
        snprintf(buf, sizeof buf, "%s:%u", pkg, i);
        at_sha256(buf, strlen(buf), f[i].sha256);
    }
}

/* A catalog of nr packages "pkg<i>" version "1.<i>", two files each. */
static void make_catalog(struct at_catalog *c, uint32_t nr)
{
    at_catalog_init(c);
    c->version = 1;
    c->expires_ns = 1000 * S;
    for (uint32_t i = 0; i < nr; i++) {
        char name[32], ver[16];
        struct at_file f[2];
        snprintf(name, sizeof name, "pkg%u", i);
        snprintf(ver, sizeof ver, "1.%u", i);
        files_of(f, 2, name);
        struct vm_diag d = { 0 };
        ck_assert_int_eq(at_catalog_add(c, name, ver, "acme", false, f, 2, &d), 0);
    }
}

/* ------------------------------------------------------------- catalog */

START_TEST(test_at_catalog_add_find_withdraw)
{
    struct at_catalog c;
    make_catalog(&c, 1000);        /* enough to grow the index several times */
    ck_assert_uint_eq(c.nr_pkgs, 1000);
    for (uint32_t i = 0; i < 1000; i += 37) {
        char name[32], ver[16];
        snprintf(name, sizeof name, "pkg%u", i);
        snprintf(ver, sizeof ver, "1.%u", i);
        const struct at_pkg *p = at_catalog_find(&c, name, ver);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->name, name);
        ck_assert_str_eq(p->version, ver);
        ck_assert_str_eq(p->vendor, "acme");
        ck_assert_uint_eq(p->nr_files, 2);
        ck_assert(!p->withdrawn);
    }
    ck_assert_ptr_null(at_catalog_find(&c, "pkg1", "1.2"));     /* name of one, version of another */
    ck_assert_ptr_null(at_catalog_find(&c, "pkg", "1.1"));
    ck_assert_ptr_null(at_catalog_find(&c, "nope", "1"));
    ck_assert_int_eq(at_catalog_withdraw(&c, "pkg5", "1.5"), 0);
    ck_assert(at_catalog_find(&c, "pkg5", "1.5")->withdrawn);
    ck_assert(!at_catalog_find(&c, "pkg6", "1.6")->withdrawn);
    ck_assert_int_eq(at_catalog_withdraw(&c, "pkg5", "1.6"), VM_ENOENT);
    at_catalog_free(&c);
    /* an empty catalog finds nothing; freed, it is empty again */
    ck_assert_uint_eq(c.nr_pkgs, 0);
    ck_assert_ptr_null(at_catalog_find(&c, "pkg1", "1.1"));
    ck_assert_int_eq(at_catalog_withdraw(&c, "pkg1", "1.1"), VM_ENOENT);
}
END_TEST

START_TEST(test_at_catalog_same_name_two_versions_both_found)
{
    struct at_catalog c;
    at_catalog_init(&c);
    struct at_file f[1];
    files_of(f, 1, "esx");
    ck_assert_int_eq(at_catalog_add(&c, "esx-base", "8.0.1", "VMware", false, f, 1, NULL), 0);
    f[0].sha256[0] ^= 1;
    ck_assert_int_eq(at_catalog_add(&c, "esx-base", "8.0.2", "VMware", false, f, 1, NULL), 0);
    const struct at_pkg *a = at_catalog_find(&c, "esx-base", "8.0.1");
    const struct at_pkg *b = at_catalog_find(&c, "esx-base", "8.0.2");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_mem_ne(a->data_hash, b->data_hash, AT_HASH_LEN);
    at_catalog_free(&c);
}
END_TEST

START_TEST(test_at_catalog_duplicate_refused_with_message)
{
    struct at_catalog c;
    make_catalog(&c, 3);
    struct at_file f[1];
    files_of(f, 1, "x");
    struct vm_diag d = { 0 };
    ck_assert_int_eq(at_catalog_add(&c, "pkg1", "1.1", "other", false, f, 1, &d), VM_EINVAL);
    ck_assert_int_eq(d.code, VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "duplicate package"));
    ck_assert_ptr_nonnull(strstr(d.msg, "'pkg1'"));
    ck_assert_uint_eq(c.nr_pkgs, 3);
    ck_assert_str_eq(at_catalog_find(&c, "pkg1", "1.1")->vendor, "acme");   /* the first kept */
    at_catalog_free(&c);
}
END_TEST

START_TEST(test_at_catalog_limits_refused)
{
    struct at_catalog c;
    at_catalog_init(&c);
    struct at_file f[2];
    files_of(f, 2, "p");
    char longname[AT_NAME_MAX + 1], okname[AT_NAME_MAX];
    memset(longname, 'n', AT_NAME_MAX);
    longname[AT_NAME_MAX] = 0;              /* AT_NAME_MAX chars: no room for the NUL */
    memset(okname, 'n', AT_NAME_MAX - 1);
    okname[AT_NAME_MAX - 1] = 0;            /* the longest that fits */
    char longver[AT_VERSION_MAX + 1], longvendor[AT_VENDOR_MAX + 1];
    memset(longver, '1', AT_VERSION_MAX);
    longver[AT_VERSION_MAX] = 0;
    memset(longvendor, 'v', AT_VENDOR_MAX);
    longvendor[AT_VENDOR_MAX] = 0;
    struct {
        const char *name, *version, *vendor, *want;
        const struct at_file *files;
        uint32_t nr;
    } bad[] = {
        { longname, "1", "v", "name", f, 1 },
        { "", "1", "v", "empty package name", f, 1 },
        { NULL, "1", "v", "empty package name", f, 1 },
        { "p", longver, "v", "version", f, 1 },
        { "p", "", "v", "empty package version", f, 1 },
        { "p", "1", longvendor, "vendor", f, 1 },
        { "p", "1", "", "empty package vendor", f, 1 },
        { "p", "1", "v", "no files", f, 0 },
        { "p", "1", "v", "no files", NULL, 1 },
        { "p", "1", "v", "at most 4096", f, AT_MAX_FILES + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vm_diag d = { 0 };
        ck_assert_int_eq(at_catalog_add(&c, bad[i].name, bad[i].version, bad[i].vendor, false,
                                        bad[i].files, bad[i].nr, &d), VM_EINVAL);
        ck_assert_msg(strstr(d.msg, bad[i].want), "case %zu: '%s'", i, d.msg);
    }
    /* file paths: empty, and one byte too long */
    struct vm_diag d = { 0 };
    f[1].path[0] = 0;
    ck_assert_int_eq(at_catalog_add(&c, "p", "1", "v", false, f, 2, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "file 1: empty path"));
    memset(f[1].path, 'a', AT_PATH_MAX);    /* no NUL inside the field */
    vm_diag_clear(&d);
    ck_assert_int_eq(at_catalog_add(&c, "p", "1", "v", false, f, 2, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "file 1: path longer than 95 bytes"));
    ck_assert_uint_eq(c.nr_pkgs, 0);
    /* the limits themselves are accepted */
    files_of(f, 2, "p");
    ck_assert_int_eq(at_catalog_add(&c, okname, "1", "v", false, f, 2, NULL), 0);
    struct at_file *many = calloc(AT_MAX_FILES, sizeof *many);
    ck_assert_ptr_nonnull(many);
    files_of(many, AT_MAX_FILES, "big");
    ck_assert_int_eq(at_catalog_add(&c, "big", "1", "v", false, many, AT_MAX_FILES, NULL), 0);
    free(many);
    ck_assert_uint_eq(c.nr_pkgs, 2);
    ck_assert_uint_eq(at_catalog_find(&c, "big", "1")->nr_files, AT_MAX_FILES);
    at_catalog_free(&c);
}
END_TEST

START_TEST(test_at_catalog_copy_is_deep)
{
    struct at_catalog c, k;
    make_catalog(&c, 50);
    c.version = 7;
    ck_assert_int_eq(at_catalog_copy(&k, &c), 0);
    uint8_t hc[AT_HASH_LEN], hk[AT_HASH_LEN];
    at_targets_hash(&c, hc);
    at_targets_hash(&k, hk);
    ck_assert_mem_eq(hc, hk, AT_HASH_LEN);
    ck_assert_uint_eq(k.version, 7);
    ck_assert_ptr_ne(k.pkgs, c.pkgs);
    ck_assert_ptr_ne(k.pkgs[0].files, c.pkgs[0].files);
    /* the copy changes alone, and its index works */
    ck_assert_int_eq(at_catalog_withdraw(&k, "pkg3", "1.3"), 0);
    ck_assert(!at_catalog_find(&c, "pkg3", "1.3")->withdrawn);
    struct at_file f[1];
    files_of(f, 1, "new");
    ck_assert_int_eq(at_catalog_add(&k, "new", "1", "v", false, f, 1, NULL), 0);
    ck_assert_ptr_nonnull(at_catalog_find(&k, "new", "1"));
    ck_assert_ptr_null(at_catalog_find(&c, "new", "1"));
    ck_assert_ptr_nonnull(at_catalog_find(&k, "pkg49", "1.49"));
    at_catalog_free(&c);
    ck_assert_ptr_nonnull(at_catalog_find(&k, "pkg0", "1.0"));
    at_catalog_free(&k);
    /* an empty catalog copies too */
    at_catalog_init(&c);
    ck_assert_int_eq(at_catalog_copy(&k, &c), 0);
    ck_assert_uint_eq(k.nr_pkgs, 0);
    at_catalog_free(&k);
}
END_TEST

START_TEST(test_at_pkg_data_hash_is_component_hash_of_files)
{
    struct at_catalog c;
    at_catalog_init(&c);
    struct at_file f[3];
    files_of(f, 3, "q");
    ck_assert_int_eq(at_catalog_add(&c, "q", "2", "v", false, f, 3, NULL), 0);
    uint8_t hashes[3 * AT_HASH_LEN], want[AT_HASH_LEN];
    for (int i = 0; i < 3; i++)
        memcpy(hashes + i * AT_HASH_LEN, f[i].sha256, AT_HASH_LEN);
    at_component_hash(hashes, 3, want);
    ck_assert_mem_eq(at_catalog_find(&c, "q", "2")->data_hash, want, AT_HASH_LEN);
    at_catalog_free(&c);
}
END_TEST

/* ------------------------------------------------------------ encoding */

START_TEST(test_at_targets_encode_deterministic_and_field_sensitive)
{
    struct at_catalog a, b;
    make_catalog(&a, 4);
    make_catalog(&b, 4);
    size_t la, lb;
    uint8_t *ea = at_targets_encode(&a, &la), *eb = at_targets_encode(&b, &lb);
    ck_assert_ptr_nonnull(ea);
    ck_assert_ptr_nonnull(eb);
    ck_assert_uint_eq(la, lb);
    ck_assert_uint_eq(la, at_targets_size(&a));
    ck_assert_mem_eq(ea, eb, la);
    ck_assert_mem_eq(ea, "vmsim-targets/1", 15);
    /* the hash is the SHA-256 of the encoding */
    uint8_t h[AT_HASH_LEN], want[AT_HASH_LEN];
    at_sha256(ea, la, want);
    at_targets_hash(&a, h);
    ck_assert_mem_eq(h, want, AT_HASH_LEN);
    free(ea);
    free(eb);

    /* every field changes the hash: each mutation on a fresh copy */
    uint8_t base[AT_HASH_LEN];
    at_targets_hash(&a, base);
    for (int field = 0; field < 9; field++) {
        struct at_catalog m;
        ck_assert_int_eq(at_catalog_copy(&m, &a), 0);
        struct at_pkg *p = &m.pkgs[2];
        switch (field) {
        case 0: m.version++; break;
        case 1: m.expires_ns++; break;
        case 2: p->name[0] = 'P'; break;
        case 3: p->version[0] = '2'; break;
        case 4: p->vendor[0] = 'A'; break;
        case 5: p->withdrawn = true; break;
        case 6: p->files[1].path[1] = 'O'; break;
        case 7: p->files[0].sha256[31] ^= 1; break;
        case 8: p->nr_files = 1; break;
        }
        at_targets_hash(&m, h);
        ck_assert_msg(memcmp(h, base, AT_HASH_LEN) != 0, "field %d does not change the hash", field);
        at_catalog_free(&m);
    }
    /* catalog order matters (the signed list is the catalog's order) */
    struct at_catalog r;
    at_catalog_init(&r);
    r.version = a.version;
    r.expires_ns = a.expires_ns;
    for (int i = 3; i >= 0; i--) {
        const struct at_pkg *p = &a.pkgs[i];
        ck_assert_int_eq(at_catalog_add(&r, p->name, p->version, p->vendor, p->withdrawn,
                                        p->files, p->nr_files, NULL), 0);
    }
    at_targets_hash(&r, h);
    ck_assert_mem_ne(h, base, AT_HASH_LEN);
    at_catalog_free(&r);
    /* withdrawing through the API changes it too */
    ck_assert_int_eq(at_catalog_withdraw(&a, "pkg0", "1.0"), 0);
    at_targets_hash(&a, h);
    ck_assert_mem_ne(h, base, AT_HASH_LEN);
    at_catalog_free(&a);
    at_catalog_free(&b);
}
END_TEST

START_TEST(test_at_timestamp_encode_fixed_and_field_sensitive)
{
    struct at_timestamp t = { .version = 3, .snapshot_version = 2, .expires_ns = 5 * S };
    memset(t.snapshot_hash, 0xab, AT_HASH_LEN);
    uint8_t e0[AT_TIMESTAMP_ENC_LEN], e1[AT_TIMESTAMP_ENC_LEN];
    ck_assert_uint_eq(at_timestamp_encode(&t, e0), AT_TIMESTAMP_ENC_LEN);
    ck_assert_mem_eq(e0, "vmsim-timestamp/1", 17);
    for (int field = 0; field < 4; field++) {
        struct at_timestamp m = t;
        switch (field) {
        case 0: m.version++; break;
        case 1: m.snapshot_version++; break;
        case 2: m.snapshot_hash[9] ^= 1; break;
        case 3: m.expires_ns++; break;
        }
        at_timestamp_encode(&m, e1);
        ck_assert_msg(memcmp(e0, e1, sizeof e0) != 0, "field %d", field);
    }
}
END_TEST

/* ---------------------------------------------------------------- view */

struct depot {
    struct at_key rk, sk, nk, tk;   /* root, timestamp, snapshot, targets keys */
    struct at_root root;            /* version 1: one key per role */
    struct at_catalog cat;
    struct at_sigblock cat_sig;
    struct at_snapshot snap;
    struct at_sigblock snap_sig;
    struct at_timestamp ts;
    struct at_sigblock ts_sig;
    struct at_view view;
};

static void key_of(struct at_key *k, const char *role, uint64_t index)
{
    uint8_t seed[AT_SEED_LEN];
    at_key_seed(seed, role, 1, index);
    ck_assert_int_eq(at_key_init(k, seed, NULL), 0);
}

static void role_set(struct at_role_keys *rk, const struct at_key *k)
{
    memset(rk, 0, sizeof *rk);
    rk->nr_keys = 1;
    rk->threshold = 1;
    memcpy(rk->keyids[0], k->pub, AT_PUB_LEN);
}

/* Re-sign the catalog, a snapshot naming it (version = the catalog's,
 * expiring at 1000 s) and a timestamp naming that. */
static void publish(struct depot *d, uint64_t ts_version, uint64_t ts_expires_ns)
{
    ck_assert_int_eq(at_targets_sign(&d->cat, &d->tk, &d->cat_sig), 0);
    memset(&d->snap, 0, sizeof d->snap);
    d->snap.version = d->cat.version;
    d->snap.targets_version = d->cat.version;
    at_targets_hash(&d->cat, d->snap.targets_hash);
    d->snap.expires_ns = 1000 * S;
    ck_assert_int_eq(at_snapshot_sign(&d->snap, &d->nk, &d->snap_sig), 0);
    d->ts.version = ts_version;
    d->ts.snapshot_version = d->snap.version;
    at_snapshot_hash(&d->snap, d->ts.snapshot_hash);
    d->ts.expires_ns = ts_expires_ns;
    ck_assert_int_eq(at_timestamp_sign(&d->ts, &d->sk, &d->ts_sig), 0);
}

static void depot_init(struct depot *d)
{
    memset(d, 0, sizeof *d);
    key_of(&d->rk, "depot-root", 0);
    key_of(&d->sk, "depot-timestamp", 0);
    key_of(&d->nk, "depot-snapshot", 0);
    key_of(&d->tk, "depot-targets", 0);
    d->root.version = 1;
    d->root.expires_ns = 10000 * S;
    role_set(&d->root.roles[AT_ROLE_ROOT], &d->rk);
    role_set(&d->root.roles[AT_ROLE_TIMESTAMP], &d->sk);
    role_set(&d->root.roles[AT_ROLE_SNAPSHOT], &d->nk);
    role_set(&d->root.roles[AT_ROLE_TARGETS], &d->tk);
    make_catalog(&d->cat, 5);
    d->cat.version = 2;
    d->cat.expires_ns = 100 * S;
    publish(d, 10, 20 * S);
    at_view_init(&d->view, &d->root);
}

static void depot_free(struct depot *d)
{
    at_catalog_free(&d->cat);
    at_key_free(&d->rk);
    at_key_free(&d->sk);
    at_key_free(&d->nk);
    at_key_free(&d->tk);
}

/* A timestamp, then (accepted) the depot's current snapshot: TUF 5.4 and
 * 5.5 in a row, as a client does. */
static enum at_meta_err take_ts(struct depot *d, const struct at_timestamp *t,
                                const struct at_sigblock *s, uint64_t now)
{
    enum at_meta_err e = at_view_timestamp(&d->view, t, s, now);
    return e ? e : at_view_snapshot(&d->view, &d->snap, &d->snap_sig, now);
}

/* The view takes the current timestamp then the catalog at now. */
static void accept_both(struct depot *d, uint64_t now)
{
    ck_assert_int_eq(take_ts(d, &d->ts, &d->ts_sig, now), AT_META_OK);
    ck_assert_int_eq(at_view_targets(&d->view, &d->cat, &d->cat_sig, now), AT_META_OK);
}

START_TEST(test_at_view_accepts_signed_documents_and_is_fresh)
{
    struct depot d;
    depot_init(&d);
    ck_assert(!at_view_fresh(&d.view, 0));
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 1 * S), AT_META_OK);
    ck_assert(!at_view_fresh(&d.view, 1 * S));      /* the timestamp alone is not enough */
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, 1 * S), AT_META_OK);
    ck_assert_uint_eq(d.view.ts_version, 10);
    ck_assert_uint_eq(d.view.have_targets, 2);
    ck_assert(at_view_fresh(&d.view, 1 * S));
    ck_assert(at_view_fresh(&d.view, 20 * S - 1));
    ck_assert(!at_view_fresh(&d.view, 20 * S));     /* the timestamp expired: frozen */
    /* a newer timestamp naming a new catalog: stale until the catalog comes */
    d.cat.version = 3;
    publish(&d, 11, 40 * S);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 19 * S), AT_META_OK);
    ck_assert(!at_view_fresh(&d.view, 19 * S));
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, 19 * S), AT_META_OK);
    ck_assert(at_view_fresh(&d.view, 30 * S));
    ck_assert(!at_view_fresh(&d.view, 100 * S));    /* the catalog expired */
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_equal_versions_reaccepted)
{
    struct depot d;
    depot_init(&d);
    accept_both(&d, 1 * S);
    accept_both(&d, 2 * S);                         /* the same documents again */
    /* a re-signed timestamp with the same version and a later expiry */
    d.ts.expires_ns = 30 * S;
    ck_assert_int_eq(at_timestamp_sign(&d.ts, &d.sk, &d.ts_sig), 0);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 3 * S), AT_META_OK);
    ck_assert(at_view_fresh(&d.view, 25 * S));
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_bad_signature_refused)
{
    struct depot d;
    depot_init(&d);
    struct at_view before;
    /* timestamp: a flipped signature bit, and a field changed after signing */
    d.ts_sig.sig[0] ^= 1;
    before = d.view;
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_BAD_SIG);
    ck_assert_mem_eq(&d.view, &before, sizeof before);     /* nothing moved */
    d.ts_sig.sig[0] ^= 1;
    d.ts.expires_ns += S;
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_BAD_SIG);
    d.ts.expires_ns -= S;
    /* signed by the targets key instead of the timestamp key */
    struct at_sigblock wrong;
    ck_assert_int_eq(at_timestamp_sign(&d.ts, &d.tk, &wrong), 0);
    ck_assert_int_eq(take_ts(&d, &d.ts, &wrong, S), AT_META_BAD_SIG);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_OK);
    /* targets: a flipped signature bit over the named document */
    d.cat_sig.sig[0] ^= 1;
    before = d.view;
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_BAD_SIG);
    ck_assert_mem_eq(&d.view, &before, sizeof before);
    d.cat_sig.sig[0] ^= 1;
    /* a package's file hash changed after signing: no longer the document
     * the snapshot names, refused by its hash before the signature (TUF
     * 5.6.1) */
    d.cat.pkgs[1].files[0].sha256[0] ^= 1;
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_MISMATCH);
    ck_assert_mem_eq(&d.view, &before, sizeof before);
    d.cat.pkgs[1].files[0].sha256[0] ^= 1;
    /* a withdrawn flag cleared after signing (hiding a vulnerable version) */
    ck_assert_int_eq(at_catalog_withdraw(&d.cat, "pkg1", "1.1"), 0);
    d.cat.version = 3;
    publish(&d, 11, 20 * S);
    d.cat.pkgs[1].withdrawn = false;
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_MISMATCH);
    d.cat.pkgs[1].withdrawn = true;
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_OK);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_unknown_algorithm_refused)
{
    struct depot d;
    depot_init(&d);
    struct at_sigblock s = d.ts_sig;
    s.alg = AT_ALG_UNKNOWN;                 /* a good signature, named wrongly */
    ck_assert_int_eq(take_ts(&d, &d.ts, &s, S), AT_META_UNKNOWN_ALG);
    s.alg = (enum at_alg)3;
    ck_assert_int_eq(take_ts(&d, &d.ts, &s, S), AT_META_UNKNOWN_ALG);
    ck_assert_uint_eq(d.view.ts_version, 0);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_OK);
    s = d.cat_sig;
    s.alg = AT_ALG_UNKNOWN;
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &s, S), AT_META_UNKNOWN_ALG);
    ck_assert_uint_eq(d.view.have_targets, 0);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_timestamp_rollback_refused)
{
    struct depot d;
    depot_init(&d);
    struct at_timestamp old = d.ts;
    struct at_sigblock old_sig = d.ts_sig;
    accept_both(&d, S);
    publish(&d, 11, 20 * S);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_OK);
    /* the older, validly signed, unexpired timestamp replayed */
    ck_assert_int_eq(take_ts(&d, &old, &old_sig, 2 * S), AT_META_ROLLBACK);
    ck_assert_uint_eq(d.view.ts_version, 11);
    /* a higher timestamp version naming an older targets version */
    d.cat.version = 1;
    publish(&d, 12, 20 * S);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 2 * S), AT_META_ROLLBACK);
    ck_assert_uint_eq(d.view.targets_version, 2);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_targets_rollback_refused)
{
    struct depot d;
    depot_init(&d);
    struct at_catalog old;
    ck_assert_int_eq(at_catalog_copy(&old, &d.cat), 0);
    struct at_sigblock old_sig = d.cat_sig;
    accept_both(&d, S);
    d.cat.version = 3;
    publish(&d, 11, 20 * S);
    accept_both(&d, S);
    /* version 2, validly signed and unexpired, offered to a view holding 3:
     * not the document the snapshot names (TUF 5.6.1, checked first) */
    ck_assert_int_eq(at_view_targets(&d.view, &old, &old_sig, 2 * S), AT_META_MISMATCH);
    ck_assert_uint_eq(d.view.have_targets, 3);
    ck_assert(at_view_fresh(&d.view, 2 * S));
    at_catalog_free(&old);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_expired_documents_refused)
{
    struct depot d;
    depot_init(&d);
    /* the timestamp expires at 20 s: at 20 s it is refused (TUF: expiry
     * must be later than now) */
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 20 * S), AT_META_EXPIRED);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 50 * S), AT_META_EXPIRED);
    ck_assert_uint_eq(d.view.ts_version, 0);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 20 * S - 1), AT_META_OK);
    /* the catalog expires at 100 s; a fresh timestamp names it */
    publish(&d, 11, 200 * S);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, 100 * S), AT_META_OK);
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, 100 * S), AT_META_EXPIRED);
    ck_assert_uint_eq(d.view.have_targets, 0);
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, 99 * S), AT_META_OK);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_targets_not_named_by_timestamp_refused)
{
    struct depot d;
    depot_init(&d);
    ck_assert_int_eq(take_ts(&d, &d.ts, &d.ts_sig, S), AT_META_OK);
    /* a validly signed catalog with the same version but other contents
     * (mix-and-match: the timestamp names another hash) */
    struct at_catalog other;
    ck_assert_int_eq(at_catalog_copy(&other, &d.cat), 0);
    struct at_file f[1];
    files_of(f, 1, "extra");
    ck_assert_int_eq(at_catalog_add(&other, "extra", "1", "v", false, f, 1, NULL), 0);
    struct at_sigblock os;
    ck_assert_int_eq(at_targets_sign(&other, &d.tk, &os), 0);
    ck_assert_int_eq(at_view_targets(&d.view, &other, &os, S), AT_META_MISMATCH);
    /* a validly signed newer catalog the timestamp does not name yet */
    other.version = 3;
    ck_assert_int_eq(at_targets_sign(&other, &d.tk, &os), 0);
    ck_assert_int_eq(at_view_targets(&d.view, &other, &os, S), AT_META_MISMATCH);
    ck_assert_uint_eq(d.view.have_targets, 0);
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_OK);
    /* a timestamp naming the accepted targets version with another hash */
    struct at_timestamp t2 = d.ts;
    struct at_sigblock s2;
    t2.version = 11;
    t2.snapshot_hash[0] ^= 1;
    ck_assert_int_eq(at_timestamp_sign(&t2, &d.sk, &s2), 0);
    ck_assert_int_eq(take_ts(&d, &t2, &s2, S), AT_META_MISMATCH);
    ck_assert_uint_eq(d.view.ts_version, 10);
    ck_assert(at_view_fresh(&d.view, S));
    at_catalog_free(&other);
    depot_free(&d);
}
END_TEST

START_TEST(test_at_view_targets_before_any_timestamp_refused)
{
    struct depot d;
    depot_init(&d);
    ck_assert_int_eq(at_view_targets(&d.view, &d.cat, &d.cat_sig, S), AT_META_MISMATCH);
    ck_assert_uint_eq(d.view.have_targets, 0);
    ck_assert(!at_view_fresh(&d.view, S));
    depot_free(&d);
}
END_TEST

START_TEST(test_at_meta_err_names)
{
    ck_assert_str_eq(at_meta_err_name(AT_META_OK), "ok");
    ck_assert_str_eq(at_meta_err_name(AT_META_BAD_SIG), "bad_sig");
    ck_assert_str_eq(at_meta_err_name(AT_META_UNKNOWN_ALG), "unknown_alg");
    ck_assert_str_eq(at_meta_err_name(AT_META_ROLLBACK), "rollback");
    ck_assert_str_eq(at_meta_err_name(AT_META_EXPIRED), "expired");
    ck_assert_str_eq(at_meta_err_name(AT_META_MISMATCH), "mismatch");
    ck_assert_str_eq(at_meta_err_name(AT_META_THRESHOLD), "threshold");
    ck_assert_str_eq(at_meta_err_name(AT_META_BAD_VERSION), "bad_version");
}
END_TEST

static Suite *at_meta_suite(void)
{
    Suite *s = suite_create("at_meta");
    TCase *t = tcase_create("catalog");
    tcase_add_test(t, test_at_catalog_add_find_withdraw);
    tcase_add_test(t, test_at_catalog_same_name_two_versions_both_found);
    tcase_add_test(t, test_at_catalog_duplicate_refused_with_message);
    tcase_add_test(t, test_at_catalog_limits_refused);
    tcase_add_test(t, test_at_catalog_copy_is_deep);
    tcase_add_test(t, test_at_pkg_data_hash_is_component_hash_of_files);
    suite_add_tcase(s, t);
    t = tcase_create("encoding");
    tcase_add_test(t, test_at_targets_encode_deterministic_and_field_sensitive);
    tcase_add_test(t, test_at_timestamp_encode_fixed_and_field_sensitive);
    suite_add_tcase(s, t);
    t = tcase_create("view");
    tcase_add_test(t, test_at_view_accepts_signed_documents_and_is_fresh);
    tcase_add_test(t, test_at_view_equal_versions_reaccepted);
    tcase_add_test(t, test_at_view_bad_signature_refused);
    tcase_add_test(t, test_at_view_unknown_algorithm_refused);
    tcase_add_test(t, test_at_view_timestamp_rollback_refused);
    tcase_add_test(t, test_at_view_targets_rollback_refused);
    tcase_add_test(t, test_at_view_expired_documents_refused);
    tcase_add_test(t, test_at_view_targets_not_named_by_timestamp_refused);
    tcase_add_test(t, test_at_view_targets_before_any_timestamp_refused);
    tcase_add_test(t, test_at_meta_err_names);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(at_meta_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
