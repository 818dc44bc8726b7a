/*
 * sim_json.h - JSON helpers for configs and result files: parsing with a
 * located error ("FILE:LINE:COL: malformed JSON: expected ',' or '}', got
 * 'x'"), JSON path text ("$.variants[1].params.block_pages") and override
 * paths ("vm.memory", "$.variants[0].params.block_pages").
 *
 * cJSON reports only where it stopped, not what it expected, so a small
 * recursive-descent syntax checker (RFC 8259, no extensions) runs first
 * and names what it expected; cJSON then builds the tree.
 */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/vm_err.h"

/* Deepest nesting the syntax checker accepts (cJSON's own limit is 1000). */
#define SIM_JSON_MAX_DEPTH 200

/*
 * Parse text (NUL-terminated, the whole input must be one JSON value).
 * On error returns VM_EPARSE with "FILE:LINE:COL: malformed JSON: ..." in
 * d (file as given; LINE and COL count from 1, COL in characters).
 */
int sim_json_parse(const char *file, const char *text, cJSON **out, struct vm_diag *d);

/* Read and parse a file.  VM_ENOENT ("FILE: cannot read: No such file or
 * directory"), VM_EINVAL (not a regular file - a directory, a FIFO, a
 * device, read by nothing - or larger than SIM_JSON_MAX_FILE) or
 * VM_EPARSE as above. */
int sim_json_load(const char *file, cJSON **out, struct vm_diag *d);

/* The largest JSON file sim_json_load() reads (experiments, results,
 * calibration files): bytes. */
#define SIM_JSON_MAX_FILE (256u << 20)

/* Read a whole file into a malloc'ed NUL-terminated buffer; NULL and errno
 * set on failure. */
char *sim_json_read_file(const char *file, size_t *len_out);

/* One segment of an override path. */
#define SIM_JSON_ANY_INDEX (-1)         /* "[*]": every element (sweep paths) */
struct sim_json_seg {
    bool is_index;
    int index;                  /* is_index: >= 0, or SIM_JSON_ANY_INDEX */
    char key[64];               /* !is_index */
};

#define SIM_JSON_MAX_SEGS 16

struct sim_json_path {
    int n;
    struct sim_json_seg seg[SIM_JSON_MAX_SEGS];
};

/* Parse "a.b[2].c" or "$.a.b[2].c" (also `["key.with.dots"]` segments,
 * and "[*]", SIM_JSON_ANY_INDEX, which the caller may refuse).
 * VM_EINVAL with "expected ..., got ..." in d on a malformed path. */
int sim_json_path_parse(const char *text, struct sim_json_path *p, struct vm_diag *d);

/* Text of the first n segments of p: "vm.memory", "variants[0].params" -
 * without the leading "$.". */
void sim_json_path_text(const struct sim_json_path *p, int n, char *buf, size_t len);

/*
 * A JSON path being built while descending: "$", "$.vm", "$.variants[1]".
 * Keys that are not [A-Za-z0-9_-]+ are written as ["key"].  push returns
 * the previous length for pop.
 */
struct sim_json_pathbuf {
    char text[512];
    size_t len;
};
void sim_json_pathbuf_init(struct sim_json_pathbuf *b);
size_t sim_json_pathbuf_key(struct sim_json_pathbuf *b, const char *key);
size_t sim_json_pathbuf_index(struct sim_json_pathbuf *b, int index);
void sim_json_pathbuf_pop(struct sim_json_pathbuf *b, size_t len);

/* "object", "array", "string", "number", "boolean", "null". */
const char *sim_json_type_name(const cJSON *v);

/* What a message shows after "got": "\"8x\"" for strings (JSON-quoted,
 * shortened past 40 characters), "12", "true", "null", "object", "array". */
const char *sim_json_got(const cJSON *v, char *buf, size_t len);

/* A scalar's text for labels: the string itself, "16", "0.5", "true";
 * NULL for objects, arrays and null. */
const char *sim_json_scalar_text(const cJSON *v, char *buf, size_t len);

/* Format a double as cJSON prints it (shortest of %.15g / %.17g that
 * reads back exactly; integral values without a fraction). */
const char *sim_json_fmt_number(double v, char *buf, size_t len);

#endif
