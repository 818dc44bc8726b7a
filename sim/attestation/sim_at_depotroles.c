/*
 * sim_at_depotroles.c - the root and snapshot roles of a depot file
 * (sim_at_depotfile.h; TUF 1.0 sections 4.3 root.json and 4.4
 * snapshot.json): their strict reading (each problem one located line),
 * their check against the depot's keys, and their writing.
 *
 * A key id is the public key itself (at_root.h).  Root signatures by a
 * key the root role does not list are ignored when counting, as TUF
 * 5.3.4 counts only the role's keys; a threshold is met by distinct keys.
 * The root must also carry a signature by the depot's root key (the
 * trust anchor the nodes ship with, TUF 5.2), and the single-signature
 * roles (timestamp, snapshot, targets) threshold 1.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attestation/sim_at_depotfile_int.h"

/* An integer in [min, max] at key of obj; `what` is the expectation. */
static int get_uint(struct dpf *x, const cJSON *obj, const char *key, uint64_t min,
                    uint64_t max, const char *what, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark = sim_json_pathbuf_key(&x->path, key);
    char got[64];
    int rc = 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
        v->valuedouble > INT_MAX_JSON || v->valuedouble != floor(v->valuedouble))
        rc = dpf_fail(x, VM_EINVAL, "expected %s, got %s", what, sim_json_got(v, got, sizeof got));
    else
        *out = (uint64_t)v->valuedouble;
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

/* "_type" is want. */
static int check_type(struct dpf *x, const cJSON *obj, const char *want)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "_type");
    size_t mark = sim_json_pathbuf_key(&x->path, "_type");
    char got[64];
    int rc = 0;
    if (!cJSON_IsString(t) || strcmp(t->valuestring, want) != 0)
        rc = dpf_fail(x, VM_EINVAL, "expected \"%s\", got %s", want,
                      sim_json_got(t, got, sizeof got));
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

static int get_expires(struct dpf *x, const cJSON *obj, uint64_t *ns)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, "expires");
    size_t mark = sim_json_pathbuf_key(&x->path, "expires");
    char got[64];
    int rc = 0;
    if (!cJSON_IsString(e) || sim_at_depot_parse_expires(e->valuestring, ns) != 0 || *ns == 0)
        rc = dpf_fail(x, VM_EINVAL, "expected a time after the run's start like \"365d\" or "
                      "\"3600s\", got %s", sim_json_got(e, got, sizeof got));
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

int dpf_parse_sig(struct dpf *x, const cJSON *s, struct at_rootsig *o)
{
    static const char *const keys[] = { "keyid", "alg", "sig" };
    char got[64];
    memset(o, 0, sizeof *o);
    if (!cJSON_IsObject(s))
        return dpf_fail(x, VM_EINVAL, "expected object {keyid, alg, sig}, got %s",
                        sim_json_got(s, got, sizeof got));
    int rc = dpf_check_keys(x, s, keys, 3, 0x7u);
    if (!rc)
        rc = dpf_get_hex(x, s, "keyid", o->keyid, AT_PUB_LEN);
    if (!rc) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "alg");
        size_t m2 = sim_json_pathbuf_key(&x->path, "alg");
        if (!cJSON_IsString(a))
            rc = dpf_fail(x, VM_EINVAL, "expected string, got %s",
                          sim_json_got(a, got, sizeof got));
        else if ((o->alg = at_alg_parse(a->valuestring)) != AT_ALG_ED25519)  /* depot: Ed25519 */
            rc = dpf_fail(x, VM_EINVAL, "unknown algorithm %s (known: ed25519)",
                          sim_json_got(a, got, sizeof got));
        sim_json_pathbuf_pop(&x->path, m2);
    }
    if (!rc)
        rc = dpf_get_hex(x, s, "sig", o->sig, AT_SIG_LEN);
    return rc;
}

/* A signatures array of 1..max {keyid, alg, sig} into out[]. */
static int parse_sig_list(struct dpf *x, const cJSON *sa, uint32_t max, struct at_rootsig *out,
                          uint32_t *nr)
{
    char got[64];
    int n = cJSON_IsArray(sa) ? cJSON_GetArraySize(sa) : -1;
    if (n <= 0)
        return dpf_fail(x, VM_EINVAL, "expected a non-empty array of signatures, got %s",
                        n == 0 ? "an empty array" : sim_json_got(sa, got, sizeof got));
    if ((uint32_t)n > max)
        return dpf_fail(x, VM_EINVAL, "expected at most %u signatures, got %d", max, n);
    int rc = 0, i = 0;
    for (const cJSON *s = sa->child; s && !rc; s = s->next, i++) {
        size_t mark = sim_json_pathbuf_index(&x->path, i);
        rc = dpf_parse_sig(x, s, &out[i]);
        sim_json_pathbuf_pop(&x->path, mark);
    }
    *nr = (uint32_t)i;
    return rc;
}

/* One role {keyids, threshold} at x->path. */
static int parse_role(struct dpf *x, const cJSON *o, struct at_role_keys *rk)
{
    static const char *const keys[] = { "keyids", "threshold" };
    char got[64];
    memset(rk, 0, sizeof *rk);
    if (!cJSON_IsObject(o))
        return dpf_fail(x, VM_EINVAL, "expected object {keyids, threshold}, got %s",
                        sim_json_got(o, got, sizeof got));
    int rc = dpf_check_keys(x, o, keys, 2, 0x3u);
    if (rc)
        return rc;
    const cJSON *ka = cJSON_GetObjectItemCaseSensitive(o, "keyids");
    size_t mark = sim_json_pathbuf_key(&x->path, "keyids");
    int n = cJSON_IsArray(ka) ? cJSON_GetArraySize(ka) : -1;
    if (n <= 0 || n > AT_ROLE_MAX_KEYS)
        rc = dpf_fail(x, VM_EINVAL, "expected an array of 1 to %d key ids, got %s",
                      AT_ROLE_MAX_KEYS, n == 0 ? "an empty array" : n > 0 ? "more"
                      : sim_json_got(ka, got, sizeof got));
    int i = 0;
    for (const cJSON *k = rc ? NULL : ka->child; k && !rc; k = k->next, i++) {
        size_t m2 = sim_json_pathbuf_index(&x->path, i);
        size_t where;
        if (!cJSON_IsString(k) ||
            at_hex_decode(k->valuestring, rk->keyids[i], AT_PUB_LEN, &where) != 0)
            rc = dpf_fail(x, VM_EINVAL, "expected %d hex digits, got %s", 2 * AT_PUB_LEN,
                          sim_json_got(k, got, sizeof got));
        for (int j = 0; j < i && !rc; j++)
            if (memcmp(rk->keyids[j], rk->keyids[i], AT_PUB_LEN) == 0)
                rc = dpf_fail(x, VM_EINVAL, "duplicate key id (keyids[%d] has it)", j);
        sim_json_pathbuf_pop(&x->path, m2);
    }
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    rk->nr_keys = (uint32_t)n;
    char what[64];
    snprintf(what, sizeof what, "an integer from 1 to %d (the role's keyids)", n);
    uint64_t t = 0;
    rc = get_uint(x, o, "threshold", 1, (uint64_t)n, what, &t);
    rk->threshold = (uint32_t)t;
    return rc;
}

int dpf_parse_root(struct dpf *x, const cJSON *o, struct at_root *r, struct at_root_sigs *s)
{
    static const char *const keys[] = { "signed", "signatures" };
    static const char *const skeys[] = { "_type", "version", "expires", "roles" };
    static const char *const roles[AT_NR_ROLES] = { "root", "timestamp", "snapshot",
                                                    "targets" };
    char got[64];
    memset(r, 0, sizeof *r);
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(o))
        return dpf_fail(x, VM_EINVAL, "expected object {signed, signatures}, got %s",
                        sim_json_got(o, got, sizeof got));
    int rc = dpf_check_keys(x, o, keys, 2, 0x3u);
    if (rc)
        return rc;
    const cJSON *sg = cJSON_GetObjectItemCaseSensitive(o, "signed");
    size_t mark = sim_json_pathbuf_key(&x->path, "signed");
    if (!cJSON_IsObject(sg))
        rc = dpf_fail(x, VM_EINVAL, "expected object {_type, version, expires, roles}, got %s",
                      sim_json_got(sg, got, sizeof got));
    if (!rc)
        rc = dpf_check_keys(x, sg, skeys, 4, 0xfu);
    if (!rc)
        rc = check_type(x, sg, "root");
    if (!rc)
        rc = get_uint(x, sg, "version", 1, (uint64_t)INT_MAX_JSON, "integer >= 1", &r->version);
    if (!rc)
        rc = get_expires(x, sg, &r->expires_ns);
    if (!rc) {
        const cJSON *ro = cJSON_GetObjectItemCaseSensitive(sg, "roles");
        size_t m2 = sim_json_pathbuf_key(&x->path, "roles");
        if (!cJSON_IsObject(ro))
            rc = dpf_fail(x, VM_EINVAL, "expected object {root, timestamp, snapshot, "
                          "targets}, got %s", sim_json_got(ro, got, sizeof got));
        if (!rc)
            rc = dpf_check_keys(x, ro, roles, AT_NR_ROLES, 0xfu);
        for (int i = 0; i < AT_NR_ROLES && !rc; i++) {
            size_t m3 = sim_json_pathbuf_key(&x->path, roles[i]);
            rc = parse_role(x, cJSON_GetObjectItemCaseSensitive(ro, roles[i]), &r->roles[i]);
            sim_json_pathbuf_pop(&x->path, m3);
        }
        sim_json_pathbuf_pop(&x->path, m2);
    }
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    mark = sim_json_pathbuf_key(&x->path, "signatures");
    rc = parse_sig_list(x, cJSON_GetObjectItemCaseSensitive(o, "signatures"), AT_ROOT_MAX_SIGS,
                        s->sig, &s->nr);
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

int dpf_parse_snapshot(struct dpf *x, const cJSON *o, struct at_snapshot *sn,
                       struct at_rootsig *sig)
{
    static const char *const keys[] = { "signed", "signatures" };
    static const char *const skeys[] = { "_type", "version", "expires", "targets_version",
                                         "targets_sha256" };
    char got[64];
    memset(sn, 0, sizeof *sn);
    if (!cJSON_IsObject(o))
        return dpf_fail(x, VM_EINVAL, "expected object {signed, signatures}, got %s",
                        sim_json_got(o, got, sizeof got));
    int rc = dpf_check_keys(x, o, keys, 2, 0x3u);
    if (rc)
        return rc;
    const cJSON *sg = cJSON_GetObjectItemCaseSensitive(o, "signed");
    size_t mark = sim_json_pathbuf_key(&x->path, "signed");
    if (!cJSON_IsObject(sg))
        rc = dpf_fail(x, VM_EINVAL, "expected object {_type, version, expires, "
                      "targets_version, targets_sha256}, got %s",
                      sim_json_got(sg, got, sizeof got));
    if (!rc)
        rc = dpf_check_keys(x, sg, skeys, 5, 0x1fu);
    if (!rc)
        rc = check_type(x, sg, "snapshot");
    if (!rc)
        rc = get_uint(x, sg, "version", 1, (uint64_t)INT_MAX_JSON, "integer >= 1", &sn->version);
    if (!rc)
        rc = get_expires(x, sg, &sn->expires_ns);
    if (!rc)
        rc = get_uint(x, sg, "targets_version", 1, (uint64_t)INT_MAX_JSON, "integer >= 1",
                      &sn->targets_version);
    if (!rc)
        rc = dpf_get_hex(x, sg, "targets_sha256", sn->targets_hash, AT_HASH_LEN);
    sim_json_pathbuf_pop(&x->path, mark);
    if (rc)
        return rc;
    struct at_rootsig all[1];
    uint32_t nr = 0;
    mark = sim_json_pathbuf_key(&x->path, "signatures");
    rc = parse_sig_list(x, cJSON_GetObjectItemCaseSensitive(o, "signatures"), 1, all, &nr);
    sim_json_pathbuf_pop(&x->path, mark);
    if (!rc)
        *sig = all[0];
    return rc;
}

/* Fail at path p (pushed keys, NULL-terminated). */
static int fail_at(struct dpf *x, int code, const char *const *p, const char *msg)
{
    size_t mark = x->path.len;
    for (; *p; p++)
        sim_json_pathbuf_key(&x->path, *p);
    int rc = dpf_fail(x, code, "%s", msg);
    sim_json_pathbuf_pop(&x->path, mark);
    return rc;
}

int dpf_verify_roles(struct dpf *x, const struct at_root *r, const struct at_root_sigs *rs,
                     const struct at_snapshot *sn, const struct at_rootsig *ss,
                     const struct at_catalog *c, const struct sim_at_keyset *ks)
{
    char msg[VM_DIAG_MSG_MAX], hex[2 * AT_PUB_LEN + 1];
    for (int i = 0; i < AT_NR_ROLES; i++) {
        if (at_role_has(&r->roles[i], ks->k[i].pub))
            continue;
        at_hex_encode(ks->k[i].pub, AT_PUB_LEN, hex);
        snprintf(msg, sizeof msg, "the depot's %s key (%.16s..., from depot.key_seed) is not "
                 "listed", at_role_name((enum at_role)i), hex);
        const char *p[] = { "root", "signed", "roles", at_role_name((enum at_role)i), "keyids",
                            NULL };
        return fail_at(x, VM_EINVAL, p, msg);
    }
    /* The timestamp, snapshot and targets documents carry one signature
     * each: a threshold above 1 could never be met (the nodes' view
     * refuses such a root: at_view_check_sig). */
    for (int i = 0; i < AT_NR_ROLES; i++) {
        if (i == AT_ROLE_ROOT || r->roles[i].threshold <= 1)
            continue;
        snprintf(msg, sizeof msg, "expected 1 (the %s role's documents carry one signature; "
                 "thresholds above 1 are not modelled), got %u",
                 at_role_name((enum at_role)i), r->roles[i].threshold);
        const char *p[] = { "root", "signed", "roles", at_role_name((enum at_role)i),
                            "threshold", NULL };
        return fail_at(x, VM_EINVAL, p, msg);
    }
    const struct at_role_keys *rk = &r->roles[AT_ROLE_ROOT];
    uint32_t n = at_root_count(rk, r, rs, NULL);
    if (n < rk->threshold) {
        snprintf(msg, sizeof msg, "bad signatures: %u of the root role's keys signed the root, "
                 "its threshold is %u (re-sign an edited file: vmsim-depot sign)", n,
                 rk->threshold);
        const char *p[] = { "root", "signatures", NULL };
        return fail_at(x, VM_ECORRUPT, p, msg);
    }
    /* TUF 5.2: the root is trusted because the trust anchor (the depot's
     * root key of depot.key_seed, the key the nodes ship with) signed it,
     * not because keys it lists itself did: otherwise a root listing
     * [depot root, attacker] with threshold 1 and signed by the attacker
     * alone would certify itself. */
    struct at_role_keys anchor;
    memset(&anchor, 0, sizeof anchor);
    anchor.nr_keys = 1;
    anchor.threshold = 1;
    memcpy(anchor.keyids[0], ks->k[AT_ROLE_ROOT].pub, AT_PUB_LEN);
    if (at_root_count(&anchor, r, rs, NULL) < 1) {
        at_hex_encode(ks->k[AT_ROLE_ROOT].pub, AT_PUB_LEN, hex);
        snprintf(msg, sizeof msg, "not signed by the depot's root key (%.16s..., from "
                 "depot.key_seed, the trust anchor: TUF 5.2); signatures by other keys the "
                 "root lists do not count alone (vmsim-depot sign)", hex);
        const char *p[] = { "root", "signatures", NULL };
        return fail_at(x, VM_ECORRUPT, p, msg);
    }
    uint8_t h[AT_HASH_LEN];
    at_targets_hash(c, h);
    if (sn->targets_version != c->version) {
        snprintf(msg, sizeof msg, "expected %llu (the targets' version), got %llu",
                 (unsigned long long)c->version, (unsigned long long)sn->targets_version);
        const char *p[] = { "snapshot", "signed", "targets_version", NULL };
        return fail_at(x, VM_EINVAL, p, msg);
    }
    if (memcmp(h, sn->targets_hash, AT_HASH_LEN) != 0) {
        const char *p[] = { "snapshot", "signed", "targets_sha256", NULL };
        return fail_at(x, VM_EINVAL, p, "not the hash of the signed targets (a snapshot "
                       "of other targets: re-sign an edited file, vmsim-depot sign)");
    }
    const struct at_role_keys *sk = &r->roles[AT_ROLE_SNAPSHOT];
    if (!at_role_has(sk, ss->keyid) || memcmp(ss->keyid, ks->k[AT_ROLE_SNAPSHOT].pub,
                                              AT_PUB_LEN) != 0) {
        const char *p[] = { "snapshot", "signatures", NULL };
        return fail_at(x, VM_EINVAL, p, "unknown key: not the depot's snapshot key (from "
                       "depot.key_seed)");
    }
    uint8_t buf[AT_SNAPSHOT_ENC_LEN];
    size_t len = at_snapshot_encode(sn, buf);
    if (at_verify(ss->alg, ss->keyid, buf, len, ss->sig) != 0) {
        const char *p[] = { "snapshot", "signatures", NULL };
        return fail_at(x, VM_ECORRUPT, p, "bad signature: it does not verify over the "
                       "snapshot with the depot's snapshot key (vmsim-depot sign)");
    }
    return 0;
}

/* {keyid, alg, sig} appended to array sa. */
static int add_sig(cJSON *sa, const uint8_t keyid[AT_PUB_LEN], enum at_alg alg,
                   const uint8_t sig[AT_SIG_LEN])
{
    char hex[2 * AT_SIG_LEN + 1];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return VM_ENOMEM;
    cJSON_AddItemToArray(sa, o);
    at_hex_encode(keyid, AT_PUB_LEN, hex);
    if (!cJSON_AddStringToObject(o, "keyid", hex) ||
        !cJSON_AddStringToObject(o, "alg", at_alg_name(alg)))
        return VM_ENOMEM;
    at_hex_encode(sig, AT_SIG_LEN, hex);
    return cJSON_AddStringToObject(o, "sig", hex) ? 0 : VM_ENOMEM;
}

int dpf_roles_json(cJSON *root, const struct at_catalog *c, const struct sim_at_keyset *ks)
{
    struct at_root r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    r.expires_ns = 365 * NS_PER_DAY;     /* AT_ROOT_EXPIRY_NS */
    for (int i = 0; i < AT_NR_ROLES; i++) {
        r.roles[i].nr_keys = 1;
        r.roles[i].threshold = 1;
        memcpy(r.roles[i].keyids[0], ks->k[i].pub, AT_PUB_LEN);
    }
    struct at_root_sigs rs;
    memset(&rs, 0, sizeof rs);
    if (at_root_sign(&r, &ks->k[AT_ROLE_ROOT], &rs) != 0)
        return VM_EIO;
    struct at_snapshot sn = { .version = c->version, .targets_version = c->version,
                              .expires_ns = c->expires_ns };
    at_targets_hash(c, sn.targets_hash);
    struct at_sigblock sb;
    if (at_snapshot_sign(&sn, &ks->k[AT_ROLE_SNAPSHOT], &sb) != 0)
        return VM_EIO;
    char hex[2 * AT_HASH_LEN + 1], exp[32];
    cJSON *ro = cJSON_AddObjectToObject(root, "root");
    cJSON *s = ro ? cJSON_AddObjectToObject(ro, "signed") : NULL;
    cJSON *roles = NULL, *sa = NULL;
    dpf_expires_text(r.expires_ns, exp, sizeof exp);
    if (!s || !cJSON_AddStringToObject(s, "_type", "root") ||
        !cJSON_AddNumberToObject(s, "version", 1) || !cJSON_AddStringToObject(s, "expires", exp) ||
        !(roles = cJSON_AddObjectToObject(s, "roles")))
        return VM_ENOMEM;
    for (int i = 0; i < AT_NR_ROLES; i++) {
        cJSON *o = cJSON_AddObjectToObject(roles, at_role_name((enum at_role)i));
        cJSON *ka = o ? cJSON_AddArrayToObject(o, "keyids") : NULL;
        at_hex_encode(ks->k[i].pub, AT_PUB_LEN, hex);
        cJSON *k = cJSON_CreateString(hex);
        if (!ka || !k) {
            cJSON_Delete(k);
            return VM_ENOMEM;
        }
        cJSON_AddItemToArray(ka, k);
        if (!cJSON_AddNumberToObject(o, "threshold", 1))
            return VM_ENOMEM;
    }
    if (!(sa = cJSON_AddArrayToObject(ro, "signatures")) ||
        add_sig(sa, rs.sig[0].keyid, rs.sig[0].alg, rs.sig[0].sig))
        return VM_ENOMEM;
    cJSON *so = cJSON_AddObjectToObject(root, "snapshot");
    s = so ? cJSON_AddObjectToObject(so, "signed") : NULL;
    dpf_expires_text(sn.expires_ns, exp, sizeof exp);
    at_hex_encode(sn.targets_hash, AT_HASH_LEN, hex);
    if (!s || !cJSON_AddStringToObject(s, "_type", "snapshot") ||
        !cJSON_AddNumberToObject(s, "version", (double)sn.version) ||
        !cJSON_AddStringToObject(s, "expires", exp) ||
        !cJSON_AddNumberToObject(s, "targets_version", (double)sn.targets_version) ||
        !cJSON_AddStringToObject(s, "targets_sha256", hex) ||
        !(sa = cJSON_AddArrayToObject(so, "signatures")) ||
        add_sig(sa, ks->k[AT_ROLE_SNAPSHOT].pub, sb.alg, sb.sig))
        return VM_ENOMEM;
    return 0;
}
