/*
 * sim_cfg.h - the config engine's key tables: how the core and each
 * mechanism declare the keys of an experiment config (JSON) and what the
 * walk does with them.
 *
 * Based on fio's option tables (one row per key: name, type, range,
 * default, where the value goes; fixup_options() keeps going after an
 * error) and git's config errors (file, location, what was expected).
 *
 * A table is an array of struct sim_key ending in a row whose name is
 * NULL.  A row is one key of a JSON object:
 *   SIM_KEY_SCALAR   a value, set into obj + p.off through p (vm_param.h)
 *                    by sim_cfg_set_param, or by a custom setter;
 *   SIM_KEY_OBJECT   an object whose keys are the rows of `sub`, filling the
 *                    struct at obj + p.off; a "kinded" object, whose keys
 *                    depend on its "kind", also has `kinds`: one table per
 *                    choice of its "kind" row, in the order of the choices,
 *                    NULL-terminated, each starting with that "kind" row
 *                    (sub is kinds[0]); sim_cfg_walk_kind() walks one;
 *   SIM_KEY_ARRAY    an array of such objects (the setter walks them);
 *   SIM_KEY_PARAMS   a policy's parameters: the keys of the vm_param table
 *                    of the policy named by the sibling key "policy"
 *                    (`policies` says which policy set; NULL = the
 *                    mechanism's variant set);
 *   SIM_KEY_FREE     anything (sweep, quick); not a path target.
 * Every problem is one line "FILE: $.json.path: expected ..., got ...";
 * a setter reports through sim_cfg_err() at the walk's current path.
 *
 * The core owns the generic top-level keys (sim_config.c) and offers the
 * sections several mechanisms share (sim_cfg_vm.h); a mechanism declares
 * its own sections in struct sim_mech.sections, filling its own struct.
 */
#ifndef SIM_CFG_H
#define SIM_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"
#include "base/vm_param.h"

struct sim_cfg_walk;                    /* one walk over a config (private) */
struct sim_policy_set;                  /* sim_mech.h */
struct sim_exp;

/* Bounds the core's and the mechanisms' tables share. */
#define SIM_CFG_SEED_MAX 9007199254740991.0     /* 2^53 - 1: exact in a JSON number */
#define SIM_CFG_TIME_MAX_NS 86400e9             /* one day */

enum sim_key_shape {
    SIM_KEY_SCALAR,
    SIM_KEY_OBJECT,
    SIM_KEY_ARRAY,
    SIM_KEY_PARAMS,
    SIM_KEY_FREE,
};

#define SIM_KEY_REQ      0x1u  /* required */
#define SIM_KEY_DEFAULTS 0x2u  /* object: its rows' defaults apply even when it is absent */
#define SIM_KEY_NOSWEEP  0x4u  /* cannot be a sweep path */
#define SIM_KEY_NOSET    0x8u  /* cannot be overridden (--set, quick) */

struct sim_key;
/* Set row k from JSON value v into obj (the parent's struct); 0 or
 * VM_EINVAL after reporting through sim_cfg_err(). */
typedef int (*sim_key_setter)(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                              void *obj);
/* The policy set a SIM_KEY_PARAMS row takes its policy from, by the
 * document (e.g. by its "phase"). */
typedef const struct sim_policy_set *(*sim_key_policies)(const cJSON *doc);

struct sim_key {
    const char *name;
    unsigned flags;                     /* SIM_KEY_* */
    enum sim_key_shape shape;
    sim_key_setter set;
    struct vm_param p;                  /* scalars: type, offset, range, default, help;
                                           objects: p.off = their struct inside obj */
    const struct sim_key *sub;          /* objects and array elements: their rows */
    const struct sim_key *const *kinds; /* kinded objects: each kind's rows, in the order
                                           of the "kind" row's choices; NULL-terminated */
    size_t len;                         /* strings: capacity of the char array */
    sim_key_policies policies;          /* SIM_KEY_PARAMS: NULL = the variant set */
    const char *def_policy;             /* SIM_KEY_PARAMS: when no "policy" is given */
};

#define SIM_KEY_SCALAR_ROW(nm, fl, ty, off_, lo, hi, dflt, hlp)                        \
    { .name = nm, .flags = fl, .shape = SIM_KEY_SCALAR, .set = sim_cfg_set_param,       \
      .p = { .name = nm, .type = ty, .off = off_, .min = lo, .max = hi, .def = dflt,     \
             .help = hlp } }
#define SIM_KEY_ENUM_ROW(nm, fl, off_, ch, dflt, hlp)                                  \
    { .name = nm, .flags = fl, .shape = SIM_KEY_SCALAR, .set = sim_cfg_set_param,       \
      .p = { .name = nm, .type = VM_PARAM_ENUM, .off = off_, .choices = ch, .def = dflt, \
             .help = hlp } }
#define SIM_KEY_STR_ROW(nm, fl, fn, off_, cap, hlp)                                    \
    { .name = nm, .flags = fl, .shape = SIM_KEY_SCALAR, .set = fn,                      \
      .p = { .name = nm, .type = VM_PARAM_STRING, .off = off_, .help = hlp }, .len = cap }
/* kinds_: NULL, or the kind tables of a kinded object (tab is then kinds_[0]) */
#define SIM_KEY_OBJ_ROW(nm, fl, fn, off_, tab, kinds_, hlp)                            \
    { .name = nm, .flags = fl, .shape = SIM_KEY_OBJECT, .set = fn, .sub = tab,         \
      .kinds = kinds_, .p = { .name = nm, .off = off_, .help = hlp } }
#define SIM_KEY_ARR_ROW(nm, fl, fn, tab, kinds_, hlp)                                  \
    { .name = nm, .flags = fl, .shape = SIM_KEY_ARRAY, .set = fn, .sub = tab,          \
      .kinds = kinds_, .p = { .name = nm, .help = hlp } }
#define SIM_KEY_END { .name = NULL }

/* Setters for rows (all report at the walk's current path). */
int sim_cfg_set_param(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
/* A string into a char[k->len] at p.off; too long is an error. */
int sim_cfg_set_str(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
/* Free text, truncated to k->len (the config echo keeps it whole). */
int sim_cfg_set_text(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
/* A name for records, CSV cells and plots: A-Z a-z 0-9 _ - . + only. */
int sim_cfg_set_label(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                      void *obj);
/* A readable file relative to the config's directory, stored absolute. */
int sim_cfg_set_path(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
/* An object of k->sub rows into obj + p.off. */
int sim_cfg_set_object(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj);
/*
 * A mechanism's "costs" key: a costs file's path (a string: load(w, v,
 * costs) reads it), or an object of figures (k->sub rows into costs) with
 * an optional "file" loaded first, whatever its place, so the figures
 * given win.  costs is the struct the rows fill (obj + k->p.off).
 */
typedef int (*sim_cfg_costs_load)(struct sim_cfg_walk *w, const cJSON *file, void *costs);
int sim_cfg_set_costs(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                      void *costs, sim_cfg_costs_load load);
/* Accept anything (rows whose value another pass reads). */
int sim_cfg_set_skip(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);

/*
 * Walk object v against tab into obj: unknown keys (with "did you mean"),
 * duplicate keys, missing required keys, each row's setter.  Keeps going
 * after an error; 0 when this object had none.
 */
int sim_cfg_walk_object(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *tab,
                        void *obj);
/*
 * The same for a kinded object of kind `kind` (an index into kinds, the
 * NULL-terminated tables of struct sim_key.kinds): its rows are
 * kinds[kind], and a key that only another kind has is "key 'x' is for
 * kind 'b', not 'a'" (kind names: sim_cfg_kind_name()).  The caller has
 * set the "kind" row already and applied the kind's defaults.
 */
int sim_cfg_walk_kind(struct sim_cfg_walk *w, const cJSON *v, const struct sim_key *const *kinds,
                      int kind, void *obj);
/* The name of kinds[i]: choice i of kinds[0]'s "kind" row, into buf; "?"
 * when there is none.  Returns buf. */
const char *sim_cfg_kind_name(const struct sim_key *const *kinds, int i, char *buf, size_t len);
/* Apply the defaults of tab's scalar rows set by sim_cfg_set_param (and
 * of SIM_KEY_DEFAULTS objects' rows) to obj; rows with their own setter
 * take their defaults from the mechanism's cfg_init. */
void sim_cfg_apply_defaults(const struct sim_key *tab, void *obj);

/*
 * Resolve `name` in policy set `set` and fill cfg (set->cfg_size bytes)
 * from its parameter defaults, then from params (may be NULL).  The walk's
 * current path is the object that holds "policy" and "params".  0, or
 * VM_EINVAL after reporting ("unknown policy 'x' (known: a, b)").
 */
int sim_cfg_resolve_policy(struct sim_cfg_walk *w, const struct sim_policy_set *set,
                           const char *name, const cJSON *params, void *cfg);

/* Report a problem at the walk's current JSON path; returns VM_EINVAL. */
int sim_cfg_err(struct sim_cfg_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report at an explicit path ("$.workload.file"), with `code`. */
int sim_cfg_err_at(struct sim_cfg_walk *w, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Descend into key / index for messages; pop with the returned mark. */
size_t sim_cfg_push_key(struct sim_cfg_walk *w, const char *key);
size_t sim_cfg_push_index(struct sim_cfg_walk *w, int index);
void sim_cfg_pop(struct sim_cfg_walk *w, size_t mark);
/* Problems reported so far in this walk. */
int sim_cfg_nr_errors(const struct sim_cfg_walk *w);
/* The document being walked (one run point's, after overrides). */
const cJSON *sim_cfg_doc(const struct sim_cfg_walk *w);

/*
 * Deep checks, for a mechanism's check hook (struct sim_mech.check): they
 * run in `vmsim validate` and in `vmsim run` before any run point starts,
 * and write nothing (a refused run leaves no file behind).
 * sim_cfg_memo_get/put remember one result per (kind, key) for the walk,
 * so a file shared by many run points is checked once (get copies it out).
 */
struct sim_cfg_memo {
    int rc;                             /* 0 or the check's VM_E* */
    char msg[VM_DIAG_MSG_MAX];          /* its message when rc != 0 */
    uint64_t value[4];                  /* figures the check found */
};
/* Copy the remembered result into *out: true, or false if none. */
bool sim_cfg_memo_get(const struct sim_cfg_walk *w, const char *kind, const char *key,
                      struct sim_cfg_memo *out);
void sim_cfg_memo_put(struct sim_cfg_walk *w, const char *kind, const char *key,
                      const struct sim_cfg_memo *m);

/* A list of located error lines ("FILE: $.path: message"), deduplicated. */
struct sim_diag_list {
    int n;
    char **lines;
};
void sim_diag_list_add(struct sim_diag_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_diag_list_free(struct sim_diag_list *l);

/*
 * The platform check every run point's own platform, host and disk get
 * (sim_platform.h: SimGrid loads it in a child with the run's --cfg
 * options, the host and disk exist, every disk suits the disk model),
 * for a mechanism's check hook to call on more hosts and disks: reported
 * at json_path (host and disk problems at host_path / disk_path), once
 * per (platform, host, disk).  With info non-NULL, what the check found
 * (the host's cores, the disk's capacity) when it passed.  0 or the
 * problem's code.
 */
struct sim_platform_info;
int sim_cfg_check_platform(struct sim_cfg_walk *w, const char *platform, const char *host,
                           const char *disk, const char *json_path, const char *host_path,
                           const char *disk_path, struct sim_platform_info *info);

/*
 * Is `host` (non-empty) a host of the platform, with or without a disk?
 * "unknown host 'x' (hosts: a, b)" at host_path when not; once per
 * (platform, host), so a mechanism's check hook may ask again for a host
 * the core checked (the line is not repeated).  Every host a fault names
 * is checked by the core before the mechanism's check hook runs.  0 or
 * the problem's code (a problem with the file itself is left to
 * sim_cfg_check_platform to report).
 */
int sim_cfg_check_host(struct sim_cfg_walk *w, const char *platform, const char *host,
                       const char *host_path);

/* The closest of names[] within a third of the name's length (1..3
 * edits), or NULL: for "did you mean" in messages. */
const char *sim_cfg_suggest(const char *const *names, int n, const char *name);

#endif
