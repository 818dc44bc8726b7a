/*
 * at_int.h - the datacenter model's insides, shared by its files:
 *   at_msg.c    the wire: batched records, strict decoding, rack batching
 *   at_cpu.c    the workers of a node or of the depot (FIFO, k workers)
 *   at_host.c   hosts: boot, upgrade, attest, re-attest, attacks on evidence
 *   at_node.c   attestation nodes: nonce, quote check, policy, token
 *   at_depot.c  the depot: catalog history, timestamps, lookups, feed,
 *               attacks on its replies
 *   at_admin.c  the baselines' administrator and the nodes' allow-lists
 *   at_check.c  the checker: ground truth from the schedule and history
 *   at_dc.c     construction, start, delivery, statistics
 *
 * Endpoints are numbered: rack k is k, node j is EP_NODE0 + j, then the
 * depot and the admin console.  Per-host state is struct at_host (32
 * bytes); everything a node remembers about a host's pending request is
 * the issued[] pair (attempt, node) - the nonce itself is derived from the
 * node's secret, so it needs no storage.
 */
#ifndef AT_INT_H
#define AT_INT_H

#include "attestation/at.h"
#include "base/vm_rand.h"

#define EP_NODE0 ((uint32_t)AT_MAX_RACKS)
#define EP_DEPOT (EP_NODE0 + AT_MAX_NODES)
#define EP_ADMIN (EP_DEPOT + 1)
#define AT_NONE UINT32_MAX

/* Why a node refused (struct at_stats.refused_by). */
enum at_reason {
    R_OK = 0,
    R_MALFORMED,                 /* the request did not parse */
    R_WRONG_HOST,                /* the quote names another host */
    R_NONCE,                     /* not the nonce issued (a replay) */
    R_PCR,                       /* the log does not give the quoted PCR */
    R_SIG,                       /* not the host's registered key */
    R_UNKNOWN,                   /* a component the policy does not know */
    R_HASH,                      /* a component whose hash differs (tampered) */
    R_WITHDRAWN,                 /* a withdrawn (vulnerable) version */
    R_NOT_ALLOWED,               /* allow-list: the version is not (yet) allowed */
    R_NO_VIEW,                   /* no fresh depot view (fail closed) */
    R_META,                      /* the depot's reply was refused by the view */
    R_DEPOT_TIMEOUT,             /* the depot did not answer */
    R_NR
};
const char *at_reason_name(enum at_reason r);

/* -------------------------------------------------------------- timers */

/* A one-shot timer's argument begins with this: at_timer() allocates it
 * (size bytes), links it in the run's list and frees it after fn ran, or
 * at at_dc_free (then cancelled). */
struct at_tnode {
    struct at_tnode *prev, *next;
    struct at_dc *dc;
    uint64_t id;
    void (*fn)(void *self);
};
/* NULL when out of memory (fn will not run). */
void *at_timer(struct at_dc *dc, uint64_t when_ns, size_t size, void (*fn)(void *self));

/* ---------------------------------------------------------------- wire */

enum at_mtype { M_ATTEST = 1, M_NONCE, M_QUOTE, M_TOKEN, M_REFUSE, M_LOOKUP, M_LOOKUP_REPLY,
                M_FETCH, M_TARGETS, M_TIMESTAMP, M_POLICY, M_NR };

#define AT_BATCH_MAGIC 0x31425441u   /* "ATB1" */
#define AT_F_REAL 1u                 /* the sampled request: real crypto */

/* A record's header in a batch; its payload (len bytes) follows. */
struct at_rec {
    uint8_t type, flags;
    uint16_t pad;
    uint32_t len;                /* payload bytes */
    uint32_t host, attempt;
    uint64_t id;                 /* lookup id (LOOKUP, LOOKUP_REPLY) */
    uint64_t wait_ns;            /* the exchange's time spent waiting in batches so
                                  * far: a reply carries its request's on, so the
                                  * host takes batching out of its latency */
};

struct at_quote_rec {            /* QUOTE payload; nr_events struct at_event follow */
    uint64_t key_id;             /* unsampled: the host whose key would have signed */
    uint32_t nr_events, pad;
    struct at_quote q;
};
struct at_token_rec {            /* TOKEN payload */
    uint64_t host, expires_ns, depot_version;
    uint32_t node, pad;
    uint8_t sig[AT_SIG_LEN];
};
struct at_refuse_rec { uint32_t reason, component; };
struct at_lookup_key { char name[AT_NAME_MAX]; char version[AT_VERSION_MAX]; };
struct at_lookup_ent { uint8_t found, withdrawn, pad[6]; uint8_t hash[AT_HASH_LEN]; };
/* What a depot reply carries beside its payload: the timestamp, the
 * snapshot it names, and the depot's newest root version (the node
 * fetches the roots it lacks from the depot's immutable list of roots:
 * TUF 5.3.3's "N+1.root.json"; their bytes are counted in msg_bytes). */
struct at_ts_blob {
    struct at_timestamp ts;
    struct at_sigblock sig;
    struct at_snapshot snap;
    struct at_sigblock snap_sig;
    uint64_t root_version;
};
/* A pushed timestamp's bytes on the wire: the timestamp and its
 * signature.  The snapshot changes only with a new targets version, whose
 * push carries it (TUF clients fetch snapshot.json only when the
 * timestamp names a new one: 5.5). */
#define AT_TS_WIRE (sizeof(struct at_timestamp) + sizeof(struct at_sigblock))
struct at_lookup_reply {         /* LOOKUP_REPLY payload; nr entries follow */
    struct at_ts_blob ts;
    struct at_sigblock sig;      /* the depot's over (ts version, entries) */
    uint32_t nr, pad;
};
struct at_targets_rec {          /* TARGETS payload: a reference to the depot's document */
    struct at_ts_blob ts;
    uint64_t ref;                /* the depot's history index (the document is immutable) */
    struct at_sigblock sig;
};
struct at_policy_rec {           /* POLICY payload; nr uint32 package-version ids follow */
    uint32_t add, nr;            /* add (1) or remove (0) */
    uint64_t event_ns;           /* the release or withdrawal it follows (staleness) */
    uint32_t withdrawal;         /* a withdrawal's attack index + 1 (0: none) */
    uint32_t pad;
};

/* A batch being built. */
struct at_wbuf {
    uint8_t *p;
    size_t len, cap;
    uint32_t nr;
    uint64_t wire;
};
int at_wbuf_add(struct at_wbuf *b, const struct at_rec *h, const void *payload, uint64_t wire);
void at_wbuf_free(struct at_wbuf *b);

/* Reading a batch: at_rdr_next gives 1 and a record, 0 at the end, or
 * VM_EPARSE when the framing is broken (the rest is dropped).  The payload
 * pointer may be unaligned: copy it out. */
struct at_rdr { const uint8_t *p; size_t len, off; uint32_t left; };
int at_rdr_init(struct at_rdr *r, const void *blob, size_t len);
int at_rdr_next(struct at_rdr *r, struct at_rec *h, const uint8_t **payload);
/* A record's payload has the exact size of its type.  0 or VM_EPARSE. */
int at_rec_check(const struct at_rec *h, const uint8_t *payload);

/* Queue a record from endpoint `from` to `to`, sent with the pair's
 * batch within cfg.batch_ns.  wire: the bytes it adds on the wire. */
void at_send(struct at_dc *dc, uint32_t from, uint32_t to, const struct at_rec *h,
             const void *payload, uint64_t wire);
/* The same at a later instant when_ns (a worker's completion); dropped
 * then if node `node` (AT_NONE: none) was restarted or is down. */
void at_send_at(struct at_dc *dc, uint64_t when_ns, uint32_t node, uint32_t from, uint32_t to,
                const struct at_rec *h, const void *payload, uint64_t wire);
const char *at_ep_name(uint32_t ep, char buf[16]);
/* What the depot signs for a lookup answer: SHA-256 of the timestamp's
 * version and targets version and the entries' bytes. */
void at_lookup_digest(const struct at_ts_blob *ts, const uint8_t *ents, uint32_t nr,
                      uint8_t out[AT_HASH_LEN]);
void at_batches_free(struct at_dc *dc);

/* ---------------------------------------------------------------- CPU */

struct at_cpu {
    uint32_t nr;
    uint64_t *free_at;           /* per worker: when it is next free */
    uint64_t busy_ns;
};
int at_cpu_init(struct at_cpu *c, uint32_t workers);
void at_cpu_free(struct at_cpu *c);
/* Charge cost_ns to the first free worker, FIFO; when it completes. */
uint64_t at_cpu_run(struct at_cpu *c, uint64_t now_ns, double cost_ns);

/* -------------------------------------------------------------- hosts */

enum at_hstate { H_OFF, H_BOOTING, H_WAIT_NONCE, H_WAIT_ANSWER, H_TOKEN, H_REFUSED,
                 H_QUOTING };   /* its TPM is making the quote for a NONCE */

struct at_host {
    struct at_dc *dc;
    uint64_t tmr;                /* its one timer (0: none) */
    uint64_t start_ns;           /* this attestation's first ATTEST */
    uint32_t attempt;            /* bumped at each ATTEST and reboot */
    uint8_t rel;                 /* the release it runs */
    uint8_t state;               /* enum at_hstate */
    uint8_t try_ : 6;            /* node of its cluster tried (offset) */
    uint8_t on_rel : 1;          /* it had a token on the release it runs */
    uint8_t refused : 1;         /* legitimate, and its last answer a refusal (gauge) */
    uint8_t forged : 4;          /* the attack in its quote in flight (AT_NR_ATTACKS: none) */
    uint8_t backoff : 4;         /* refusals in a row (retry doubling) */
};

void at_host_boot(struct at_dc *dc, uint32_t h, uint64_t when_ns);
void at_host_upgrade(struct at_dc *dc, uint32_t h, uint32_t rel);
void at_host_recv(struct at_dc *dc, uint32_t h, const struct at_rec *r, const uint8_t *payload);
uint32_t at_host_node(const struct at_dc *dc, uint32_t h);
/* The host attack of `kind` on h at now (its index), or -1. */
int at_host_attack(const struct at_dc *dc, enum at_attack_kind kind, uint32_t h, uint64_t now);
/* Host h's TPM takes a quote command at now: when the quote is ready
 * (after the commands queued before it, then cfg.tpm_quote_ns). */
uint64_t at_host_tpm_reserve(struct at_dc *dc, uint32_t h, uint64_t now);
/* Host h's key in the small cache (derived on a miss). */
const struct at_key *at_host_key(struct at_dc *dc, uint64_t h);

/* -------------------------------------------------------------- nodes */

struct at_job {                  /* a quote under decision */
    struct at_dc *dc;
    uint32_t node, inc;
    uint32_t host, attempt;
    uint32_t slot, gen;          /* its place in dc->jobs (lookup id) */
    uint8_t real, refetched;
    uint32_t nr_ev;
    uint64_t wait_ns;            /* the request's batching wait (at_rec.wait_ns) */
    struct at_event *ev;
    uint64_t tmr;                /* depot lookup timeout */
    struct at_job *next;         /* cache waiters */
};

struct at_node {
    struct at_dc *dc;
    uint32_t idx, inc;
    bool up;
    uint32_t downs;              /* crashes not yet followed by their restart */
    struct at_cpu cpu;
    uint8_t secret[AT_HASH_LEN]; /* nonces are SHA-256(secret, host, attempt) */
    struct at_key key;           /* token signing key */
    struct at_view view;
    struct at_ts_blob last_ts;   /* the last timestamp accepted (skip re-verifying it) */
    bool have_last_ts;
    uint64_t max_targets;        /* checker: the highest targets version it used */
    uint64_t seen_version;       /* staleness: the highest targets version seen */
    /* cache / feed */
    uint64_t held_ref;           /* depot history index + 1 (0: none) */
    uint64_t held_at_ns, last_fetch_ns;
    bool fetching;
    uint64_t fetch_tmr;
    struct at_job *wait_head, *wait_tail;
    /* allow-list baselines */
    uint8_t *allow;              /* bit per package version of the universe */
    uint64_t allow_bytes;        /* its size as a per-file path + hash list */
    uint64_t wd_known;           /* withdrawals applied (bit per attack index) */
    uint64_t answers;
};

/* A record for node j (its sender checked by at_deliver). */
void at_node_recv(struct at_dc *dc, uint32_t j, const struct at_rec *r, const uint8_t *payload);
void at_node_crash(struct at_dc *dc, uint32_t j);
void at_node_restart(struct at_dc *dc, uint32_t j);
void at_node_start(struct at_dc *dc, uint32_t j);
void at_node_free(struct at_node *n);

/* -------------------------------------------------------------- depot */

struct at_pub {                  /* one targets version the depot published */
    struct at_catalog cat;
    struct at_sigblock sig;
    uint64_t pub_ns;
    size_t size;                 /* its canonical bytes */
};

/* A root the depot published: root version g + 1 is the key generation
 * g's (generation 0 the shipped one), signed by generation g - 1's and
 * g's root keys. */
struct at_rootpub {
    struct at_root root;
    struct at_root_sigs sigs;
};

/* A key generation: every role's key (at_key_seed("depot-<role>",
 * depot_key_seed, g)); generation 0's targets and timestamp keys are the
 * config's (cfg.depot_targets_key, depot_ts_key: the same derivation). */
struct at_keygen {
    struct at_key k[AT_NR_ROLES];
    bool own[AT_NR_ROLES];       /* this struct's (freed), else the config's */
};

struct at_depot {
    struct at_cpu cpu;
    struct at_keygen *gens;      /* cfg.nr_rotations + 1 */
    struct at_rootpub *roots;    /* cfg.nr_rotations + 1, built at init */
    uint32_t gen;                /* the current generation: roots[0..gen] published */
    struct at_snapshot_pub { struct at_snapshot s; struct at_sigblock sig; } snap, prev_snap;
    struct at_ts_blob forged;    /* revoked_key: the attacker's fresh metadata */
    struct at_pub *hist;         /* version v is hist[v - 1] */
    uint32_t nr_hist;
    struct at_ts_blob ts, first_ts, frozen_ts;
    uint64_t frozen_ref;         /* history index served while frozen */
    bool frozen;
    uint64_t ts_tmr;
    uint64_t rel_version[AT_MAX_RELEASES];   /* targets version that published release k */
    uint64_t wd_version[AT_MAX_ATTACKS];     /* ... withdrawal attack i (0: not yet) */
};

int at_depot_init(struct at_dc *dc);
void at_depot_free(struct at_dc *dc);
void at_depot_start(struct at_dc *dc);
/* Rotate the depot's keys now (the next generation): publish its root,
 * re-publish the current targets, snapshot and timestamp under the new
 * keys.  0 or VM_E*. */
int at_depot_rotate(struct at_dc *dc);
/* The key of `role` in generation g. */
const struct at_key *at_depot_key(const struct at_dc *dc, uint32_t g, enum at_role role);
/* Publish release k / the withdrawal of attack i now.  0 or VM_E*. */
int at_depot_publish_release(struct at_dc *dc, uint32_t k);
int at_depot_publish_withdrawal(struct at_dc *dc, uint32_t i);
/* A depot-channel attack begins (a freeze captures the view of now). */
void at_depot_attack_begin(struct at_dc *dc, uint32_t i);
void at_depot_recv(struct at_dc *dc, uint32_t from, const struct at_rec *r,
                   const uint8_t *payload);
/* The attack on the depot channel active now (its kind), or AT_NR_ATTACKS. */
enum at_attack_kind at_depot_channel_attack(const struct at_dc *dc, uint64_t now);
bool at_depot_down(const struct at_dc *dc, uint64_t now);

/* -------------------------------------------------------------- admin */

int at_admin_init(struct at_dc *dc);
/* Schedules the administrator's updates and notes each release's
 * policy_ready_ns; call before the waves are scheduled (hold_wave moves
 * them to policy_ready_ns). */
void at_admin_start(struct at_dc *dc);
void at_admin_free(struct at_dc *dc);
/* Node j's allow-list: apply a POLICY record. */
void at_admin_apply(struct at_dc *dc, uint32_t j, const struct at_policy_rec *p,
                    const uint32_t *pv);
/* A batch from the console (len bytes) reached node j while it was down:
 * its POLICY records go back to the console's queue for j. */
void at_admin_lost(struct at_dc *dc, uint32_t j, const void *blob, size_t len);

/* The console's updates a down node has not taken, in order. */
struct at_pending {
    struct at_pending *next;
    uint32_t len;                /* the POLICY record's payload bytes */
    uint64_t wire;
    uint8_t payload[];
};
struct at_console {
    struct at_pending *head, *tail;
    uint64_t tmr;                /* the resend timer (0: none) */
    struct at_dc *dc;
    uint32_t node;
};

/* ------------------------------------------------------------ checker */

/* A decision at node j for job's host: token (reason R_OK, on depot
 * version `version`) or refusal.  Counts the figures and violations. */
void at_check_decision(struct at_dc *dc, uint32_t j, uint32_t h, enum at_reason reason,
                       uint64_t version);
/* Carry the refused-hosts gauge up to now's bin (at_finish). */
void at_check_gauge(struct at_dc *dc);
/* The host's software is all published and none of it withdrawn, by the
 * depot's own history at now. */
bool at_check_legit_software(const struct at_dc *dc, uint32_t rel, uint64_t now);

/* ------------------------------------------------------------- the run */

#define AT_KEY_CACHE 8

struct at_relinfo {              /* a release's software */
    struct at_event *log;        /* the log of a host running it (nr_log events) */
    uint32_t nr_log;             /* nr_comp + the new packages of releases 1..k */
    uint64_t uses;               /* bit k: it runs a package version of release k (a
                                  * new version or a new package) */
    uint32_t *new_pv;            /* package versions it introduced (universe ids): its
                                  * new versions, then its new packages */
    uint32_t nr_new;
    uint32_t *old_pv;            /* ... and those they replaced */
    uint32_t nr_old;
    uint64_t wave_end_ns;
    uint64_t policy_ready_ns;    /* allow-list methods: the last node's update with its
                                  * versions (at_admin_start) */
};

struct at_batch {
    struct at_dc *dc;
    uint64_t key;                /* from << 32 | to; 0 marks a free slot (never a key: to >= 1) */
    struct at_wbuf w;
    uint64_t tmr;                /* a flush is armed */
    uint64_t last_ns;            /* the last flush (valid when flushed) */
    bool flushed;
};

struct at_dc {
    struct at_cfg cfg;
    struct at_ports p;
    struct at_stats st;
    struct at_release rel[AT_MAX_RELEASES];   /* rel[0]: the base; rel[k]: cfg.releases[k - 1] */
    uint32_t nr_rel;             /* cfg.nr_releases + 1 */
    struct at_attack atk[AT_MAX_ATTACKS];
    uint32_t nr_comp;            /* the base catalog's packages (a host's log has
                                  * these and its releases' new packages: ri[].nr_log) */
    struct at_catalog uni;       /* every package version ever (the universe of ids) */
    struct at_relinfo ri[AT_MAX_RELEASES];
    uint32_t nr_racks, nr_aclusters;
    struct at_host *hosts;
    struct { uint32_t attempt, node; } *issued;   /* the nonce each host was issued */
    struct at_console *console; /* per node, allow-list methods (NULL: none) */
    uint32_t console_pending;    /* nodes with updates queued at the console */
    uint64_t *tpm_free_at;       /* per host: its TPM is free from (NULL: no TPM delay) */
    uint32_t nr_busy;            /* hosts booting or waiting for an answer */
    uint64_t nr_refused;         /* hosts with `refused` set (bin_hosts_refused) */
    uint64_t refused_bin;        /* the last bin the gauge was written to */
    struct at_node *nodes;
    struct at_depot depot;
    struct vm_rand r_boot, r_admin;   /* boot instants, admin delays */
    uint64_t last_sched_ns;      /* the last scheduled world event */
    uint64_t *sched;             /* every world event's instant, sorted at start (at_quiet) */
    uint32_t nr_sched, cap_sched;
    uint32_t job_gen;
    uint32_t wave_next[AT_MAX_RELEASES];
    struct at_tnode tq;          /* pending one-shot timers (a ring, tq itself the head) */
    struct at_job **jobs;        /* decisions waiting for the depot, by slot */
    uint32_t nr_jobs, cap_jobs, free_job;
    struct at_batch *batches;    /* open addressing by key */
    uint32_t cap_batches, nr_batches;
    struct { uint64_t h; struct at_key k; bool used; } keys[AT_KEY_CACHE];
    uint64_t wave_from_ns, wave_until_ns;   /* false_rejects_wave window */
    bool started;
};

uint64_t at_now(const struct at_dc *dc);
/* Note a world event at when_ns (for at_quiet). */
void at_dc_sched(struct at_dc *dc, uint64_t when_ns);
/* The sample decision of (host, attempt): deterministic from the seed. */
bool at_sampled(const struct at_dc *dc, uint32_t h, uint32_t attempt);
/* Decisions waiting for the depot. */
struct at_job *at_job_new(struct at_dc *dc);
struct at_job *at_job_find(struct at_dc *dc, uint64_t id);
uint64_t at_job_id(const struct at_job *j);
void at_job_free(struct at_dc *dc, struct at_job *j);

#endif
