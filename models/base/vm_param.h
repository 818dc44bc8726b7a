/*
 * vm_param.h - typed parameter tables (fio's fio_option rows), so a policy
 * declares its knobs once and the config layer validates them:
 *
 *   static const struct vm_param params[] = {
 *       { "block_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, block_pages),
 *         .min = 1, .max = 4096, .def = "16", .help = "pages per block (B)" },
 *       { NULL }
 *   };
 *
 * Values arrive as JSON numbers, booleans or strings (sizes, times and
 * rates take units, see vm_units.h).  Setters check type and range and
 * report "expected ..., got ..." through the diag.
 */
#ifndef VM_PARAM_H
#define VM_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_err.h"

enum vm_param_type {
    VM_PARAM_U32,       /* JSON integer in [min, max] -> uint32_t */
    VM_PARAM_U64,       /* JSON integer in [min, max] -> uint64_t */
    VM_PARAM_DOUBLE,    /* JSON number in [min, max] -> double */
    VM_PARAM_BOOL,      /* JSON true/false -> bool */
    VM_PARAM_SIZE,      /* "8GiB" or integer bytes, in [min, max] -> uint64_t */
    VM_PARAM_TIME,      /* "250us" -> uint64_t ns, in [min, max] */
    VM_PARAM_RATE,      /* "1.2GB/s" -> double bytes/s, in [min, max] */
    VM_PARAM_ENUM,      /* string, one of `choices` ("a|b|c") -> int index */
    VM_PARAM_STRING,    /* string -> const char *: the pointer passed in is
                           stored as is, so the caller keeps it alive */
};

struct vm_param {
    const char *name;
    enum vm_param_type type;
    size_t off;               /* offsetof() the field in the target struct */
    double min, max;          /* inclusive range; both 0 = no range check;
                                 max 0 with min != 0 = no upper bound */
    const char *choices;      /* VM_PARAM_ENUM: "write|rw" */
    const char *def;          /* default as text, applied by vm_param_defaults() */
    const char *help;         /* one line, for `vmsim list` */
};

/* Row named `name` in a NULL-terminated table, or NULL. */
const struct vm_param *vm_param_find(const struct vm_param *tab, const char *name);
/* Closest name in the table by edit distance (for "did you mean"), or NULL
 * when nothing is within distance 3. */
const char *vm_param_suggest(const struct vm_param *tab, const char *name);
/* Apply every row's `def` to obj.  0 or the first error (a bad table). */
int vm_param_defaults(const struct vm_param *tab, void *obj, struct vm_diag *d);

/*
 * Set one parameter from a JSON-typed value: 0, VM_EINVAL (wrong type,
 * malformed text, unknown choice) or VM_ERANGE (outside the range).  Exactly one of the three
 * setters matches a row's type; the others fail with "expected <what>,
 * got <json type>".  Messages name only what was expected and what was
 * got; the caller prefixes file and JSON path.
 *   number: VM_PARAM_U32/U64/DOUBLE (integers must be integral), and SIZE
 *   string: SIZE/TIME/RATE/ENUM/STRING
 *   bool:   VM_PARAM_BOOL
 */
int vm_param_set_number(const struct vm_param *p, void *obj, double v, struct vm_diag *d);
int vm_param_set_string(const struct vm_param *p, void *obj, const char *s, struct vm_diag *d);
int vm_param_set_bool(const struct vm_param *p, void *obj, bool v, struct vm_diag *d);
/* Canonical text of a row's current value in obj, for echoes: "16",
 * "true", "8GiB" / "250us" (largest unit that divides exactly), "1.2GB/s";
 * it parses back to the same value.  Returns buf. */
const char *vm_param_format(const struct vm_param *p, const void *obj, char *buf, size_t len);
/* "integer 1..4096", "size", "one of write|rw": what the row expects. */
const char *vm_param_expects(const struct vm_param *p, char *buf, size_t len);

#endif
