/*
 * at_check.c - the checker: every decision a node takes is judged from
 * the ground truth, never from the node's reasoning:
 *   - the evidence: the forgery the host sent (at_host.c applies the
 *     attack schedule and notes it), so a token for forged evidence is a
 *     false accept;
 *   - the software: the depot's own history (which releases it has
 *     published, which withdrawals), so a refusal of a genuine host whose
 *     software (its release's log: new versions and new vendor packages
 *     alike, at_relinfo.uses) is all published and none withdrawn is a
 *     false reject,
 *     and a token for a withdrawn version is a stale accept (the node's
 *     policy did not have the withdrawal yet) or a violation (it had);
 *   - the view: a token decided on a targets version older than one the
 *     node used before (rollback), on an expired timestamp, or on a
 *     timestamp whose version is above every one the depot signed (a
 *     revoked key's forgery: the depot's own history is the truth).
 * It also keeps the figures of each decision: tokens and refusals per
 * reason, the timeline bins, the first and last token of each release.
 */
#include "attestation/at_int.h"

bool at_check_legit_software(const struct at_dc *dc, uint32_t rel, uint64_t now)
{
    (void)now;                   /* the history holds what is published by now */
    if (rel && !dc->depot.rel_version[rel])
        return false;            /* running a release the depot does not have yet */
    uint64_t uses = dc->ri[rel].uses;
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        if (a->kind == AT_ATK_WITHDRAW && dc->depot.wd_version[i] && a->release < 64 &&
            (uses >> a->release & 1))
            return false;
    }
    return true;
}

/* Fill the bins since the last write with the gauge's value, up to now. */
void at_check_gauge(struct at_dc *dc)
{
    if (!dc->cfg.bin_ns)
        return;
    uint64_t bin = at_now(dc) / dc->cfg.bin_ns;
    if (bin >= AT_MAX_BINS)
        bin = AT_MAX_BINS - 1;
    for (uint64_t b = dc->refused_bin; b <= bin; b++)
        if (dc->st.bin_hosts_refused[b] < dc->nr_refused)
            dc->st.bin_hosts_refused[b] = dc->nr_refused;
    dc->refused_bin = bin;
    if (bin + 1 > dc->st.nr_bins)
        dc->st.nr_bins = (uint32_t)(bin + 1);
}

static void set_refused(struct at_dc *dc, uint32_t h, bool on)
{
    struct at_host *x = &dc->hosts[h];
    if (x->refused == on)
        return;
    at_check_gauge(dc);          /* the bins up to now hold the old value */
    x->refused = on;
    if (on)
        dc->nr_refused++;
    else
        dc->nr_refused--;
    at_check_gauge(dc);          /* and now's bin the new one */
}

static bool in_wave(const struct at_dc *dc, uint64_t now)
{
    return dc->wave_until_ns && now >= dc->wave_from_ns && now < dc->wave_until_ns;
}

void at_check_decision(struct at_dc *dc, uint32_t j, uint32_t h, enum at_reason reason,
                       uint64_t version)
{
    struct at_stats *st = &dc->st;
    struct at_node *n = &dc->nodes[j];
    const struct at_host *x = &dc->hosts[h];
    uint64_t now = at_now(dc);
    bool forged = x->forged != AT_NR_ATTACKS;
    uint64_t bin = dc->cfg.bin_ns ? now / dc->cfg.bin_ns : 0;
    bool binned = dc->cfg.bin_ns && bin < AT_MAX_BINS;
    if (binned && bin + 1 > st->nr_bins)
        st->nr_bins = (uint32_t)(bin + 1);
    if (reason != R_OK) {
        st->refusals++;
        st->refused_by[reason < 16 ? reason : 15]++;
        bool legit = !forged && at_check_legit_software(dc, x->rel, now);
        set_refused(dc, h, legit);
        if (legit) {
            st->false_rejects++;
            if (in_wave(dc, now))
                st->false_rejects_wave++;
            if (binned)
                st->bin_false_rejects[bin]++;
        }
        return;
    }
    st->tokens++;
    st->tokens_checked++;
    set_refused(dc, h, false);
    if (binned)
        st->bin_tokens[bin]++;
    if (forged)
        st->false_accepts++;
    bool depot = at_method_uses_depot(dc->cfg.params.method);
    if (depot) {
        /* older than a version the node accepted before or decided on */
        uint64_t max = n->max_targets > n->seen_version ? n->max_targets : n->seen_version;
        if (version < max)
            st->rollback_used++;
        else
            n->max_targets = version;
        if (n->view.ts_expires_ns <= now)
            st->expired_used++;
        if (n->view.ts_version > dc->depot.ts.ts.version)
            st->forged_meta_used++;  /* a timestamp version the depot never signed */
    }
    uint64_t uses = dc->ri[x->rel].uses;
    for (uint32_t i = 0; i < dc->cfg.nr_attacks; i++) {
        const struct at_attack *a = &dc->atk[i];
        if (a->kind != AT_ATK_WITHDRAW || !dc->depot.wd_version[i] || a->release >= 64 ||
            !(uses >> a->release & 1))
            continue;
        bool known = depot ? version >= dc->depot.wd_version[i] : (n->wd_known >> i & 1);
        if (known)
            st->withdrawn_known++;
        else
            st->stale_accepts++;
        break;
    }
    if (!x->on_rel && !forged) {
        /* the host's first token on its release */
        dc->hosts[h].on_rel = 1;
        if (!st->release_first_ns[x->rel])
            st->release_first_ns[x->rel] = now;
        st->release_last_ns[x->rel] = now;
    }
}
