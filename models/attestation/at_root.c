/*
 * at_root.c - the root role (at_root.h): its canonical encoding, its
 * well-formedness, signing and counting the distinct keys of a role
 * whose signatures verify (TUF 1.0 sections 4.3 and 5.3.4).
 */
#include <string.h>

#include "attestation/at_root.h"

static const char *const role_names[AT_NR_ROLES] = { "root", "timestamp", "snapshot",
                                                     "targets" };

const char *at_role_name(enum at_role r)
{
    return (unsigned)r < AT_NR_ROLES ? role_names[r] : "?";
}

enum at_role at_role_parse(const char *s)
{
    for (int i = 0; s && i < AT_NR_ROLES; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (enum at_role)i;
    return AT_NR_ROLES;
}

static size_t put_u64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return 8;
}

size_t at_root_encode(const struct at_root *r, uint8_t buf[AT_ROOT_ENC_MAX])
{
    static const char magic[] = "vmsim-root/1";
    size_t n = 0;
    memset(buf, 0, 24);
    memcpy(buf, magic, sizeof magic - 1);
    n = 24;
    n += put_u64(buf + n, r->version);
    n += put_u64(buf + n, r->expires_ns);
    for (int i = 0; i < AT_NR_ROLES; i++) {
        const struct at_role_keys *k = &r->roles[i];
        uint32_t nr = k->nr_keys > AT_ROLE_MAX_KEYS ? AT_ROLE_MAX_KEYS : k->nr_keys;
        n += put_u64(buf + n, nr);
        n += put_u64(buf + n, k->threshold);
        for (uint32_t j = 0; j < nr; j++) {
            memcpy(buf + n, k->keyids[j], AT_PUB_LEN);
            n += AT_PUB_LEN;
        }
    }
    return n;
}

int at_root_check(const struct at_root *r, struct vm_diag *d)
{
    if (r->version < 1)
        return vm_diag_set(d, VM_EINVAL, "root version 0 (expected >= 1)");
    for (int i = 0; i < AT_NR_ROLES; i++) {
        const struct at_role_keys *k = &r->roles[i];
        if (k->nr_keys < 1 || k->nr_keys > AT_ROLE_MAX_KEYS)
            return vm_diag_set(d, VM_EINVAL, "role '%s': %u keys (expected 1 to %d)",
                               role_names[i], k->nr_keys, AT_ROLE_MAX_KEYS);
        for (uint32_t a = 0; a < k->nr_keys; a++)
            for (uint32_t b = 0; b < a; b++)
                if (memcmp(k->keyids[a], k->keyids[b], AT_PUB_LEN) == 0)
                    return vm_diag_set(d, VM_EINVAL, "role '%s': key %u listed twice "
                                       "(keys %u and %u)", role_names[i], a, b, a);
        if (k->threshold < 1 || k->threshold > k->nr_keys)
            return vm_diag_set(d, VM_EINVAL, "role '%s': threshold %u (expected 1 to its "
                               "%u keys)", role_names[i], k->threshold, k->nr_keys);
    }
    return 0;
}

bool at_role_has(const struct at_role_keys *rk, const uint8_t pub[AT_PUB_LEN])
{
    uint32_t nr = rk->nr_keys > AT_ROLE_MAX_KEYS ? AT_ROLE_MAX_KEYS : rk->nr_keys;
    for (uint32_t i = 0; i < nr; i++)
        if (memcmp(rk->keyids[i], pub, AT_PUB_LEN) == 0)
            return true;
    return false;
}

int at_root_sign(const struct at_root *r, const struct at_key *k, struct at_root_sigs *s)
{
    if (s->nr >= AT_ROOT_MAX_SIGS)
        return VM_EINVAL;
    uint8_t buf[AT_ROOT_ENC_MAX];
    size_t n = at_root_encode(r, buf);
    struct at_rootsig *x = &s->sig[s->nr];
    memcpy(x->keyid, k->pub, AT_PUB_LEN);
    x->alg = AT_ALG_ED25519;
    int rc = at_sign(k, buf, n, x->sig);
    if (rc == 0)
        s->nr++;
    return rc;
}

uint32_t at_root_count(const struct at_role_keys *rk, const struct at_root *r,
                       const struct at_root_sigs *s, uint32_t *verified)
{
    uint8_t buf[AT_ROOT_ENC_MAX];
    size_t n = at_root_encode(r, buf);
    uint32_t nr = s->nr > AT_ROOT_MAX_SIGS ? AT_ROOT_MAX_SIGS : s->nr;
    uint32_t count = 0;
    bool counted[AT_ROOT_MAX_SIGS] = { false };
    for (uint32_t i = 0; i < nr; i++) {
        const struct at_rootsig *x = &s->sig[i];
        if (!at_role_has(rk, x->keyid))
            continue;
        bool dup = false;        /* the same key signing twice counts once */
        for (uint32_t j = 0; j < i && !dup; j++)
            dup = counted[j] && memcmp(s->sig[j].keyid, x->keyid, AT_PUB_LEN) == 0;
        if (dup)
            continue;
        if (verified)
            (*verified)++;
        if (at_verify(x->alg, x->keyid, buf, n, x->sig) == 0) {
            counted[i] = true;
            count++;
        }
    }
    return count;
}
