/*
 * check_at_root.c - TUF's root and snapshot roles in a client view, with
 * real Ed25519 signatures (at_root.h, at_meta.h; The Update Framework
 * specification 1.0, 5.3 "Update the root role", 5.5 snapshot, 5.6
 * targets): a root rotation is accepted with a threshold of the old AND
 * the new root keys and refused with only one of them (or a key counted
 * twice); a version skip and a replayed root are refused; an expired
 * root stops the update; a snapshot other than the timestamp names, a
 * snapshot rollback, and targets other than the snapshot names are
 * refused; after a rotation, metadata signed with a revoked key is
 * refused, and the versions a compromised key fast-forwarded are
 * forgotten (5.3.11); malformed roots are refused.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_meta.h"

#define S 1000000000ull

/* Key `index` of generation-independent name role. */
static void key_of(struct at_key *k, const char *role, uint64_t index)
{
    uint8_t seed[AT_SEED_LEN];
    at_key_seed(seed, role, 7, index);
    ck_assert_int_eq(at_key_init(k, seed, NULL), 0);
}

static void role_set(struct at_role_keys *rk, const struct at_key *const *k, uint32_t nr,
                     uint32_t threshold)
{
    memset(rk, 0, sizeof *rk);
    rk->nr_keys = nr;
    rk->threshold = threshold;
    for (uint32_t i = 0; i < nr; i++)
        memcpy(rk->keyids[i], k[i]->pub, AT_PUB_LEN);
}

/* Keys: root a, b, c; generation 0 and 1 of timestamp, snapshot, targets. */
struct world {
    struct at_key ra, rb, rc;
    struct at_key ts[2], sn[2], tg[2];
    struct at_root r1, r2;          /* r1: root {a}; r2: root {b, c} threshold 2, gen 1 */
    struct at_catalog cat;
    struct at_view v;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    key_of(&w->ra, "root", 0);
    key_of(&w->rb, "root", 1);
    key_of(&w->rc, "root", 2);
    for (int g = 0; g < 2; g++) {
        key_of(&w->ts[g], "timestamp", (uint64_t)g);
        key_of(&w->sn[g], "snapshot", (uint64_t)g);
        key_of(&w->tg[g], "targets", (uint64_t)g);
    }
    const struct at_key *k[2];
    w->r1.version = 1;
    w->r1.expires_ns = 1000 * S;
    k[0] = &w->ra;
    role_set(&w->r1.roles[AT_ROLE_ROOT], k, 1, 1);
    k[0] = &w->ts[0];
    role_set(&w->r1.roles[AT_ROLE_TIMESTAMP], k, 1, 1);
    k[0] = &w->sn[0];
    role_set(&w->r1.roles[AT_ROLE_SNAPSHOT], k, 1, 1);
    k[0] = &w->tg[0];
    role_set(&w->r1.roles[AT_ROLE_TARGETS], k, 1, 1);
    w->r2 = w->r1;
    w->r2.version = 2;
    k[0] = &w->rb;
    k[1] = &w->rc;
    role_set(&w->r2.roles[AT_ROLE_ROOT], k, 2, 2);
    k[0] = &w->ts[1];
    role_set(&w->r2.roles[AT_ROLE_TIMESTAMP], k, 1, 1);
    k[0] = &w->sn[1];
    role_set(&w->r2.roles[AT_ROLE_SNAPSHOT], k, 1, 1);
    k[0] = &w->tg[1];
    role_set(&w->r2.roles[AT_ROLE_TARGETS], k, 1, 1);
    at_catalog_init(&w->cat);
    struct at_file f = { .path = "bin/x" };
    at_sha256("x", 1, f.sha256);
    ck_assert_int_eq(at_catalog_add(&w->cat, "x", "1", "acme", false, &f, 1, NULL), 0);
    w->cat.version = 3;
    w->cat.expires_ns = 500 * S;
    at_view_init(&w->v, &w->r1);
}

static void world_free(struct world *w)
{
    at_key_free(&w->ra);
    at_key_free(&w->rb);
    at_key_free(&w->rc);
    for (int g = 0; g < 2; g++) {
        at_key_free(&w->ts[g]);
        at_key_free(&w->sn[g]);
        at_key_free(&w->tg[g]);
    }
    at_catalog_free(&w->cat);
}

/* r signed by the keys given (NULL-terminated). */
static struct at_root_sigs signed_by(const struct at_root *r, const struct at_key *k0, ...)
{
    struct at_root_sigs s;
    memset(&s, 0, sizeof s);
    const struct at_key *ks[8] = { k0 };
    va_list ap;
    va_start(ap, k0);
    for (int i = 1; i < 8 && ks[i - 1]; i++)
        ks[i] = va_arg(ap, const struct at_key *);
    va_end(ap);
    for (int i = 0; i < 8 && ks[i]; i++)
        ck_assert_int_eq(at_root_sign(r, ks[i], &s), 0);
    return s;
}

/* Metadata of generation g: a snapshot (version sv) naming the catalog
 * and a timestamp (version tv) naming it; the view takes all three. */
struct docs {
    struct at_snapshot sn;
    struct at_sigblock sn_sig;
    struct at_timestamp ts;
    struct at_sigblock ts_sig;
    struct at_sigblock cat_sig;
};

static struct docs make_docs(const struct world *w, int g, uint64_t tv, uint64_t sv,
                             const struct at_catalog *cat)
{
    struct docs d;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(at_targets_sign(cat, &w->tg[g], &d.cat_sig), 0);
    d.sn.version = sv;
    d.sn.targets_version = cat->version;
    at_targets_hash(cat, d.sn.targets_hash);
    d.sn.expires_ns = 400 * S;
    ck_assert_int_eq(at_snapshot_sign(&d.sn, &w->sn[g], &d.sn_sig), 0);
    d.ts.version = tv;
    d.ts.snapshot_version = sv;
    at_snapshot_hash(&d.sn, d.ts.snapshot_hash);
    d.ts.expires_ns = 300 * S;
    ck_assert_int_eq(at_timestamp_sign(&d.ts, &w->ts[g], &d.ts_sig), 0);
    return d;
}

static void take_all(struct world *w, const struct docs *d, uint64_t now)
{
    ck_assert_int_eq(at_view_timestamp(&w->v, &d->ts, &d->ts_sig, now), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w->v, &d->sn, &d->sn_sig, now), AT_META_OK);
    ck_assert_int_eq(at_view_targets(&w->v, &w->cat, &d->cat_sig, now), AT_META_OK);
}

/* -------------------------------------------------------------- root */

START_TEST(test_at_root_rotation_needs_old_and_new_thresholds)
{
    struct world w;
    world_init(&w);
    struct at_view before = w.v;
    uint32_t verified = 0;
    /* only the old root key (a): root 1's threshold met, root 2's (b and c) not */
    struct at_root_sigs s = signed_by(&w.r2, &w.ra, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, &verified), AT_META_THRESHOLD);
    ck_assert_mem_eq(&w.v, &before, sizeof before);
    /* only the new root keys: root 2's threshold met, root 1's not */
    s = signed_by(&w.r2, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_THRESHOLD);
    /* old and one new key: root 2's threshold of 2 not met */
    s = signed_by(&w.r2, &w.ra, &w.rb, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_THRESHOLD);
    /* a new key signing twice counts once */
    s = signed_by(&w.r2, &w.ra, &w.rb, &w.rb, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_THRESHOLD);
    /* a signature of a listed key over other bytes does not count */
    s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    s.sig[2].sig[5] ^= 1;
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_THRESHOLD);
    ck_assert_mem_eq(&w.v, &before, sizeof before);
    /* both thresholds: accepted, and the view trusts root 2's keys */
    s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    verified = 0;
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, &verified), AT_META_OK);
    ck_assert_uint_eq(verified, 3);       /* a for root 1; b and c for root 2 */
    ck_assert_uint_eq(w.v.root.version, 2);
    ck_assert(at_role_has(&w.v.root.roles[AT_ROLE_TARGETS], w.tg[1].pub));
    ck_assert(!at_role_has(&w.v.root.roles[AT_ROLE_TARGETS], w.tg[0].pub));
    world_free(&w);
}
END_TEST

START_TEST(test_at_root_version_must_go_up_by_one)
{
    struct world w;
    world_init(&w);
    /* root 3 offered to a view at root 1 (2 skipped), signed by everyone */
    struct at_root r3 = w.r2;
    r3.version = 3;
    struct at_root_sigs s = signed_by(&r3, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &r3, &s, NULL), AT_META_BAD_VERSION);
    ck_assert_uint_eq(w.v.root.version, 1);
    /* root 1 again (a replay of the trusted one) */
    s = signed_by(&w.r1, &w.ra, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r1, &s, NULL), AT_META_ROLLBACK);
    /* 2 then 3 in turn: accepted (3 signed by root 2's keys b, c) */
    s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_OK);
    s = signed_by(&r3, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &r3, &s, NULL), AT_META_OK);
    ck_assert_uint_eq(w.v.root.version, 3);
    /* and 2 is now a rollback */
    s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_ROLLBACK);
    world_free(&w);
}
END_TEST

START_TEST(test_at_root_expired_stops_the_update)
{
    struct world w;
    world_init(&w);
    struct docs d = make_docs(&w, 1, 10, 5, &w.cat);
    w.r2.expires_ns = 50 * S;
    struct at_root_sigs s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_OK);
    take_all(&w, &d, 49 * S);
    ck_assert(at_view_fresh(&w.v, 49 * S));
    /* from 50 s the trusted root is expired: nothing is taken, the view is stale */
    ck_assert(!at_view_fresh(&w.v, 50 * S));
    d.ts.version = 11;
    ck_assert_int_eq(at_timestamp_sign(&d.ts, &w.ts[1], &d.ts_sig), 0);
    ck_assert_int_eq(at_view_timestamp(&w.v, &d.ts, &d.ts_sig, 50 * S), AT_META_EXPIRED);
    ck_assert_uint_eq(w.v.ts_version, 10);
    world_free(&w);
}
END_TEST

START_TEST(test_at_root_malformed_refused)
{
    struct world w;
    world_init(&w);
    struct at_root bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = w.r2;
    bad[0].roles[AT_ROLE_SNAPSHOT].threshold = 0;
    bad[1].roles[AT_ROLE_ROOT].threshold = 3;       /* above its 2 keys */
    bad[2].roles[AT_ROLE_TARGETS].nr_keys = 2;      /* the same key twice */
    memcpy(bad[2].roles[AT_ROLE_TARGETS].keyids[1], bad[2].roles[AT_ROLE_TARGETS].keyids[0],
           AT_PUB_LEN);
    bad[3].roles[AT_ROLE_TIMESTAMP].nr_keys = 0;
    for (int i = 0; i < 4; i++) {
        struct vm_diag d = { 0 };
        ck_assert_int_eq(at_root_check(&bad[i], &d), VM_EINVAL);
        ck_assert(d.msg[0]);
        struct at_root_sigs s = signed_by(&bad[i], &w.ra, &w.rb, &w.rc, NULL);
        ck_assert_int_eq(at_view_root(&w.v, &bad[i], &s, NULL), AT_META_THRESHOLD);
    }
    ck_assert_int_eq(at_root_check(&w.r2, NULL), 0);
    ck_assert_uint_eq(w.v.root.version, 1);
    /* a timestamp role of threshold 2 cannot be met by one signature */
    struct at_root r = w.r1;
    const struct at_key *k[2] = { &w.ts[0], &w.ts[1] };
    role_set(&r.roles[AT_ROLE_TIMESTAMP], k, 2, 2);
    struct at_view v;
    at_view_init(&v, &r);
    struct docs d = make_docs(&w, 0, 10, 5, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&v, &d.ts, &d.ts_sig, S), AT_META_THRESHOLD);
    ck_assert_str_eq(at_role_name(AT_ROLE_SNAPSHOT), "snapshot");
    ck_assert_int_eq(at_role_parse("targets"), AT_ROLE_TARGETS);
    ck_assert_int_eq(at_role_parse("delegation"), AT_NR_ROLES);
    world_free(&w);
}
END_TEST

/* TUF 5.2: the shipped root is checked before a view trusts it. */
START_TEST(test_at_shipped_root_checked)
{
    struct world w;
    world_init(&w);
    struct at_view v;
    memset(&v, 0x5a, sizeof v);
    struct at_view before = v;
    struct at_root_sigs none;
    memset(&none, 0, sizeof none);
    ck_assert_int_eq(at_view_trust(&v, &w.r1, &none), AT_META_THRESHOLD);      /* unsigned */
    struct at_root_sigs s = signed_by(&w.r1, &w.rb, NULL);                      /* not its key */
    ck_assert_int_eq(at_view_trust(&v, &w.r1, &s), AT_META_THRESHOLD);
    struct at_root bad = w.r1;
    bad.roles[AT_ROLE_TARGETS].threshold = 0;
    s = signed_by(&bad, &w.ra, NULL);
    ck_assert_int_eq(at_view_trust(&v, &bad, &s), AT_META_THRESHOLD);           /* malformed */
    ck_assert_mem_eq(&v, &before, sizeof v);
    s = signed_by(&w.r1, &w.ra, NULL);
    ck_assert_int_eq(at_view_trust(&v, &w.r1, &s), AT_META_OK);
    ck_assert_mem_eq(&v, &w.v, sizeof v);       /* as at_view_init */
    world_free(&w);
}
END_TEST

/* ----------------------------------------------------------- snapshot */

START_TEST(test_at_snapshot_and_targets_must_match_what_names_them)
{
    struct world w;
    world_init(&w);
    struct docs d = make_docs(&w, 0, 10, 5, &w.cat);
    /* a snapshot before any timestamp */
    ck_assert_int_eq(at_view_snapshot(&w.v, &d.sn, &d.sn_sig, S), AT_META_MISMATCH);
    ck_assert_int_eq(at_view_timestamp(&w.v, &d.ts, &d.ts_sig, S), AT_META_OK);
    /* a validly signed snapshot the timestamp does not name (another version) */
    struct docs o = make_docs(&w, 0, 10, 6, &w.cat);
    ck_assert_int_eq(at_view_snapshot(&w.v, &o.sn, &o.sn_sig, S), AT_META_MISMATCH);
    /* ... or the named version with other contents */
    o.sn.version = 5;
    o.sn.targets_version = 4;
    ck_assert_int_eq(at_snapshot_sign(&o.sn, &w.sn[0], &o.sn_sig), 0);
    ck_assert_int_eq(at_view_snapshot(&w.v, &o.sn, &o.sn_sig, S), AT_META_MISMATCH);
    ck_assert_uint_eq(w.v.have_snap, 0);
    /* targets before the snapshot is held */
    ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &d.cat_sig, S), AT_META_MISMATCH);
    ck_assert_int_eq(at_view_snapshot(&w.v, &d.sn, &d.sn_sig, S), AT_META_OK);
    /* mix-and-match: validly signed targets of another version than the
     * snapshot names (version 4), and of the named version with other
     * contents */
    struct at_catalog other;
    ck_assert_int_eq(at_catalog_copy(&other, &w.cat), 0);
    other.version = 4;
    struct at_sigblock os;
    ck_assert_int_eq(at_targets_sign(&other, &w.tg[0], &os), 0);
    ck_assert_int_eq(at_view_targets(&w.v, &other, &os, S), AT_META_MISMATCH);
    other.version = 3;
    ck_assert_int_eq(at_catalog_withdraw(&other, "x", "1"), 0);
    ck_assert_int_eq(at_targets_sign(&other, &w.tg[0], &os), 0);
    ck_assert_int_eq(at_view_targets(&w.v, &other, &os, S), AT_META_MISMATCH);
    ck_assert_uint_eq(w.v.have_targets, 0);
    ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &d.cat_sig, S), AT_META_OK);
    ck_assert(at_view_fresh(&w.v, S));
    at_catalog_free(&other);
    world_free(&w);
}
END_TEST

START_TEST(test_at_snapshot_rollback_refused)
{
    struct world w;
    world_init(&w);
    struct docs d = make_docs(&w, 0, 10, 5, &w.cat);
    take_all(&w, &d, S);
    /* a newer timestamp naming an older snapshot version */
    struct docs o = make_docs(&w, 0, 11, 4, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &o.ts, &o.ts_sig, S), AT_META_ROLLBACK);
    /* once the timestamp key rotated, 5.3.11 deletes the trusted
     * timestamp AND snapshot (whichever of the two rotated): a timestamp
     * signed by the new key may name the older snapshot, and it is taken */
    struct at_root r2 = w.r1;
    r2.version = 2;
    const struct at_key *k[1] = { &w.ts[1] };
    role_set(&r2.roles[AT_ROLE_TIMESTAMP], k, 1, 1);
    struct at_root_sigs s = signed_by(&r2, &w.ra, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &r2, &s, NULL), AT_META_OK);
    ck_assert_uint_eq(w.v.ts_version, 0);
    ck_assert_uint_eq(w.v.have_snap, 0);
    ck_assert_uint_eq(w.v.have_targets, 0);
    o.ts.version = 12;
    ck_assert_int_eq(at_timestamp_sign(&o.ts, &w.ts[1], &o.ts_sig), 0);
    ck_assert_int_eq(at_view_timestamp(&w.v, &o.ts, &o.ts_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &o.sn, &o.sn_sig, S), AT_META_OK);
    ck_assert_uint_eq(w.v.have_snap, 4);
    ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &o.cat_sig, S), AT_META_OK);
    /* a newer snapshot naming an older targets version */
    struct at_catalog old;
    ck_assert_int_eq(at_catalog_copy(&old, &w.cat), 0);
    old.version = 2;
    struct docs p = make_docs(&w, 0, 13, 6, &old);
    ck_assert_int_eq(at_timestamp_sign(&p.ts, &w.ts[1], &p.ts_sig), 0);
    ck_assert_int_eq(at_view_timestamp(&w.v, &p.ts, &p.ts_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &p.sn, &p.sn_sig, S), AT_META_ROLLBACK);
    ck_assert_uint_eq(w.v.targets_version, 3);
    at_catalog_free(&old);
    world_free(&w);
}
END_TEST

/* --------------------------------------------------------- rotation */

START_TEST(test_at_revoked_key_refused_after_rotation)
{
    struct world w;
    world_init(&w);
    /* before the rotation, an attacker holding generation 0's keys
     * fast-forwards the view (versions + 1,000,000): it is believed */
    struct docs good = make_docs(&w, 0, 10, 5, &w.cat);
    take_all(&w, &good, S);
    struct docs ff = make_docs(&w, 0, 1000010, 1000005, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &ff.ts, &ff.ts_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &ff.sn, &ff.sn_sig, S), AT_META_OK);
    /* the depot rotates every key (root 2) */
    struct at_root_sigs s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_OK);
    ck_assert_uint_eq(w.v.ts_version, 0);           /* 5.3.11: forgotten */
    ck_assert_uint_eq(w.v.have_snap, 0);
    ck_assert_uint_eq(w.v.have_targets, 0);         /* and the targets version (5.6.3) */
    /* fresh metadata signed with the revoked keys: refused, each role */
    struct docs rv = make_docs(&w, 0, 2000000, 2000000, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &rv.ts, &rv.ts_sig, 2 * S), AT_META_BAD_SIG);
    struct docs mixed = make_docs(&w, 1, 11, 6, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &mixed.ts, &mixed.ts_sig, 2 * S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &mixed.sn, &rv.sn_sig, 2 * S), AT_META_BAD_SIG);
    ck_assert_int_eq(at_view_snapshot(&w.v, &mixed.sn, &mixed.sn_sig, 2 * S), AT_META_OK);
    w.cat.version = 4;             /* re-published under the new targets key */
    struct docs nd = make_docs(&w, 1, 12, 7, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &nd.ts, &nd.ts_sig, 2 * S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &nd.sn, &nd.sn_sig, 2 * S), AT_META_OK);
    struct at_sigblock old_sig;
    ck_assert_int_eq(at_targets_sign(&w.cat, &w.tg[0], &old_sig), 0);
    ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &old_sig, 2 * S), AT_META_BAD_SIG);
    ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &nd.cat_sig, 2 * S), AT_META_OK);
    ck_assert(at_view_fresh(&w.v, 2 * S));
    world_free(&w);
}
END_TEST

/* TUF 5.3.11: an attacker with generation 0's snapshot and targets keys
 * pushes the targets version to 1,000,000; once every key rotated, the
 * depot's real snapshot naming targets 4 (and then 5) is accepted: the
 * fast-forwarded targets version went with the deleted snapshot. */
START_TEST(test_at_targets_fast_forward_forgotten_after_rotation)
{
    struct world w;
    world_init(&w);
    struct docs good = make_docs(&w, 0, 10, 5, &w.cat);
    take_all(&w, &good, S);
    struct at_catalog ffc;
    ck_assert_int_eq(at_catalog_copy(&ffc, &w.cat), 0);
    ffc.version = 1000000;
    struct docs ff = make_docs(&w, 0, 1000010, 1000005, &ffc);
    ck_assert_int_eq(at_view_timestamp(&w.v, &ff.ts, &ff.ts_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &ff.sn, &ff.sn_sig, S), AT_META_OK);
    ck_assert_int_eq(at_view_targets(&w.v, &ffc, &ff.cat_sig, S), AT_META_OK);
    ck_assert_uint_eq(w.v.have_targets, 1000000);
    struct at_root_sigs s = signed_by(&w.r2, &w.ra, &w.rb, &w.rc, NULL);
    ck_assert_int_eq(at_view_root(&w.v, &w.r2, &s, NULL), AT_META_OK);
    for (uint64_t tv = 4; tv <= 5; tv++) {
        w.cat.version = tv;
        struct docs d = make_docs(&w, 1, 7 + tv, 2 + tv, &w.cat);
        ck_assert_int_eq(at_view_timestamp(&w.v, &d.ts, &d.ts_sig, 2 * S), AT_META_OK);
        ck_assert_int_eq(at_view_snapshot(&w.v, &d.sn, &d.sn_sig, 2 * S), AT_META_OK);
        ck_assert_int_eq(at_view_targets(&w.v, &w.cat, &d.cat_sig, 2 * S), AT_META_OK);
        ck_assert(at_view_fresh(&w.v, 2 * S));
        ck_assert_uint_eq(w.v.have_targets, tv);
    }
    /* and the rollback protection is back: targets 4 after 5 is refused */
    w.cat.version = 4;
    struct docs back = make_docs(&w, 1, 20, 20, &w.cat);
    ck_assert_int_eq(at_view_timestamp(&w.v, &back.ts, &back.ts_sig, 2 * S), AT_META_OK);
    ck_assert_int_eq(at_view_snapshot(&w.v, &back.sn, &back.sn_sig, 2 * S), AT_META_ROLLBACK);
    at_catalog_free(&ffc);
    world_free(&w);
}
END_TEST

static Suite *at_root_suite(void)
{
    Suite *s = suite_create("at_root");
    TCase *t = tcase_create("root");
    tcase_add_test(t, test_at_root_rotation_needs_old_and_new_thresholds);
    tcase_add_test(t, test_at_root_version_must_go_up_by_one);
    tcase_add_test(t, test_at_root_expired_stops_the_update);
    tcase_add_test(t, test_at_root_malformed_refused);
    tcase_add_test(t, test_at_shipped_root_checked);
    suite_add_tcase(s, t);
    t = tcase_create("snapshot");
    tcase_add_test(t, test_at_snapshot_and_targets_must_match_what_names_them);
    tcase_add_test(t, test_at_snapshot_rollback_refused);
    tcase_add_test(t, test_at_revoked_key_refused_after_rotation);
    tcase_add_test(t, test_at_targets_fast_forward_forgotten_after_rotation);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(at_root_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
