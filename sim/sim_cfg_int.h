/*
 * sim_cfg_int.h - the config engine's private state, shared by its files
 * (sim_cfg_walk.c: rows, setters and errors; sim_cfg_path.c: override and
 * sweep paths; sim_config.c: the core's keys, run points and deep checks).
 * Mechanisms see only sim_cfg.h.
 *
 * Overrides and sweep values are applied to the JSON tree, then the tree
 * is walked as a whole; a remap turns a path inside an applied value back
 * into where the value came from ("--set vm.memory",
 * "$.sweep[0].values[2]", "$.quick[\"vm.memory\"]"), so an error names
 * what the user wrote.
 */
#ifndef SIM_CFG_INT_H
#define SIM_CFG_INT_H

#include <stdalign.h>
#include <stddef.h>

#include "sim_cfg.h"
#include "sim_mech.h"
#include "sim_exp.h"
#include "sim_json.h"

#define SIM_CFG_MAX_REMAPS 128

struct sim_cfg_remap {
    char from[256];                     /* "$.vm.memory" */
    char to[256];                       /* "--set vm.memory" */
};

#define SIM_CFG_MEMO_KEY_MAX (SIM_PATH_MAX + 2 * SIM_NAME_MAX + 16)

struct sim_cfg_memo_entry {
    char kind[16];
    char key[SIM_CFG_MEMO_KEY_MAX];
    struct sim_cfg_memo m;
};

struct sim_cfg_walk {
    const char *file;                   /* as given, for messages */
    char dir[SIM_PATH_MAX];             /* the config's directory, absolute */
    struct sim_json_pathbuf path;
    struct sim_diag_list *errs;
    int nr_errs;
    int first_code;
    struct sim_cfg_remap remaps[SIM_CFG_MAX_REMAPS];
    int nr_remaps;
    const cJSON *doc;                   /* the tree being walked */
    const struct sim_mech *mech;        /* the document's mechanism, NULL if unknown */
    /* deep checks (platform, files) */
    bool deep;
    int nr_sg_args;
    char **sg_args;
    struct sim_cfg_memo_entry *memo;
    int nr_memo, cap_memo;
};

/* Where path came from: the longest remap that is a prefix of it at a
 * segment boundary, with the rest of path after it (in buf), or path. */
const char *sim_cfg_locate(const struct sim_cfg_walk *w, const char *path, char *buf,
                           size_t len);
/* Add a remap for an override applied at `from`; remaps below it go. */
void sim_cfg_remap_add(struct sim_cfg_walk *w, const char *from, const char *to);
/* Copy src into dst[cap], truncated and always terminated. */
void sim_cfg_copy_str(char *dst, size_t cap, const char *src);
/* Row `name` of tab, or NULL. */
const struct sim_key *sim_cfg_find_key(const struct sim_key *tab, const char *name);
/* "unknown key 'x' (did you mean 'y'?)" from the rows of up to two
 * tables; `in` names the override path the key is part of (or NULL). */
void sim_cfg_unknown_key_msg(const struct sim_key *tab, const struct sim_key *alt,
                             const char *name, const char *in, char *buf, size_t len);
/* The same for a policy's parameter table. */
void sim_cfg_param_unknown_msg(const struct vm_param *tab, const char *policy, const char *name,
                               const char *in, char *buf, size_t len);
/* The experiment's name (it names the output directory and the CSV):
 * a-z 0-9 _ - only. */
int sim_cfg_set_name(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
/* Walk several tables' rows as one object (the top level: the core's
 * keys into objs[0], the mechanism's sections into objs[1]). */
int sim_cfg_walk_tables(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *const *tabs,
                        void *const *objs, int n, bool report_unknown);

/* sim_cfg_top.c: the core's top-level rows, and one run point's walk. */
#define SIM_CFG_MAX_VARIANTS 64

struct sim_cfg_variant {
    char name[SIM_NAME_MAX];
    char policy[SIM_NAME_MAX];
    alignas(max_align_t) unsigned char cfg[SIM_POLICY_CFG_MAX];
};

/* What one walk over a (sweep point's) config fills: the run point minus
 * its variant, the variants, the metric specs, the mechanism's struct. */
struct sim_cfg_point {
    struct sim_exp e;
    char description[256];
    struct sim_cfg_variant variants[SIM_CFG_MAX_VARIANTS];
    int nr_variants;
    const struct sim_policy_set *vset;
    struct sim_exp_metric metrics[SIM_MAX_METRICS];
    int nr_metrics;
    void *mcfg;                         /* e.mech->cfg_size bytes */
    size_t mcfg_size;
};

extern const struct sim_key sim_config_top_keys[];
/* The mechanism a document names, or NULL. */
const struct sim_mech *sim_config_doc_mech(const cJSON *doc);
/* Walk doc into t (t->mcfg grows to the mechanism's size); 0 when it
 * walked clean and the mechanism's finish hook found nothing. */
int sim_cfg_walk_point(struct sim_cfg_walk *w, const cJSON *doc, struct sim_cfg_point *t);

/* sim_cfg_path.c */
struct sim_cfg_target {                 /* one place a sweep entry sets */
    struct sim_json_path path;
    char at[256];                       /* "$.variants[1].params.channels" */
};

#define SIM_CFG_SWEEP_MAX_WITH 4

/* A path a sweep entry sets together with its own: value i with value i. */
struct sim_cfg_sweep_with {
    struct sim_json_path path;
    char at[256];                       /* "$.vm.content" */
    const cJSON *values;                /* as many as the entry's */
};

struct sim_cfg_sweep {
    int n;
    struct {
        struct sim_json_path path;      /* as written, maybe with one "[*]" */
        char key[SIM_NAME_MAX];         /* label or path text */
        char at[256];                   /* "$.vm.memory", "$.variants[*].params.x" */
        struct sim_cfg_target *targets; /* the path at each element of "[*]", or itself */
        int nr_targets;
        const cJSON *values;
        int nr_values;
        char (*labels)[SIM_NAME_MAX];   /* text of each value */
        struct sim_cfg_sweep_with *with;/* nr_with companions (NULL when none) */
        int nr_with;
    } e[SIM_MAX_POINT_KEYS];
};
/* Is p a path the schema allows in doc?  sweep: a sweep target
 * (SIM_KEY_NOSWEEP refused), else an override (SIM_KEY_NOSET refused). */
int sim_cfg_schema_check(const cJSON *doc, const struct sim_json_path *p, const char *text,
                         bool sweep, struct vm_diag *d);
/* Put value (consumed, also on error) at p in doc, creating objects. */
int sim_cfg_json_apply(cJSON *doc, const struct sim_json_path *p, cJSON *value,
                       struct vm_diag *d);
/* Parse, check and apply one override; errors at `loc`. */
int sim_cfg_override(struct sim_cfg_walk *w, cJSON *doc, const char *path, cJSON *value,
                     const char *loc);
/* $.sweep of doc into s; 0 or VM_EINVAL after reporting. */
int sim_cfg_parse_sweep(struct sim_cfg_walk *w, const cJSON *doc, struct sim_cfg_sweep *s);
void sim_cfg_sweep_free(struct sim_cfg_sweep *s);

#endif
