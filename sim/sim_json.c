/*
 * sim_json.c - JSON parsing with located errors, JSON path text and
 * override path parsing (see sim_json.h).
 *
 * The syntax checker follows RFC 8259 strictly (no comments, no trailing
 * commas, no NaN) so that what it accepts cJSON accepts too; it exists only
 * to say *what* was expected where the input went wrong, which cJSON's
 * cJSON_GetErrorPtr() does not.  cJSON_ParseWithOpts() is still the parser,
 * and its stop position is used if it ever rejects what the checker passed.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_json.h"

/* ---------------------------------------------------------------- syntax */

struct jcheck {
    const char *start;
    const char *p;
    int depth;
    const char *err_at;
    char msg[160];
};

/* How a message shows the character at `at`. */
static void got_char(const char *at, char *buf, size_t len)
{
    unsigned char c = (unsigned char)*at;
    if (c == '\0')
        snprintf(buf, len, "end of input");
    else if (c == '\n' || c == '\r')
        snprintf(buf, len, "end of line");
    else if (c == '\'')
        snprintf(buf, len, "\"'\"");
    else if (isprint(c))
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02x", c);
}

static int jfail(struct jcheck *j, const char *at, const char *expected)
{
    char got[32];
    if (j->err_at)
        return -1;
    got_char(at, got, sizeof got);
    j->err_at = at;
    snprintf(j->msg, sizeof j->msg, "expected %s, got %s", expected, got);
    return -1;
}

static void skip_ws(struct jcheck *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

static int check_value(struct jcheck *j);

static int check_string(struct jcheck *j)
{
    /* at the opening quote */
    const char *open = j->p++;
    for (;;) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '\0') {
            j->err_at = open;
            snprintf(j->msg, sizeof j->msg, "unterminated string");
            return -1;
        }
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20)
            return jfail(j, j->p, "'\"' before the end of the line (control characters must be escaped)");
        if (c == '\\') {
            char e = j->p[1];
            if (e == 'u') {
                for (int i = 2; i < 6; i++)
                    if (!isxdigit((unsigned char)j->p[i]))
                        return jfail(j, j->p + i, "4 hex digits after '\\u'");
                if (!strncmp(j->p + 2, "0000", 4))   /* a C string would end there */
                    return jfail(j, j->p, "a character other than \\u0000 (strings hold no NUL)");
                j->p += 6;
                continue;
            }
            if (!e || !strchr("\"\\/bfnrt", e))
                return jfail(j, j->p + 1, "an escape (one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            j->p += 2;
            continue;
        }
        j->p++;
    }
}

static int check_number(struct jcheck *j)
{
    const char *p = j->p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return jfail(j, p, "a digit");
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return jfail(j, p, "a digit after '.'");
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return jfail(j, p, "a digit in the exponent");
        while (isdigit((unsigned char)*p))
            p++;
    }
    j->p = p;
    return 0;
}

static int check_literal(struct jcheck *j, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(j->p, word, n) != 0)
        return jfail(j, j->p, "a value (object, array, string, number, true, false or null)");
    j->p += n;
    return 0;
}

static int check_object(struct jcheck *j)
{
    j->p++;                                 /* '{' */
    skip_ws(j);
    if (*j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        skip_ws(j);
        if (*j->p != '"')
            return jfail(j, j->p, "a string key in double quotes");
        if (check_string(j))
            return -1;
        skip_ws(j);
        if (*j->p != ':')
            return jfail(j, j->p, "':' after the key");
        j->p++;
        if (check_value(j))
            return -1;
        skip_ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == '}') {
            j->p++;
            return 0;
        }
        return jfail(j, j->p, "',' or '}'");
    }
}

static int check_array(struct jcheck *j)
{
    j->p++;                                 /* '[' */
    skip_ws(j);
    if (*j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        if (check_value(j))
            return -1;
        skip_ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == ']') {
            j->p++;
            return 0;
        }
        return jfail(j, j->p, "',' or ']'");
    }
}

static int check_value(struct jcheck *j)
{
    skip_ws(j);
    int rc;
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > SIM_JSON_MAX_DEPTH) {
            j->err_at = j->p;
            snprintf(j->msg, sizeof j->msg, "nesting deeper than %d levels", SIM_JSON_MAX_DEPTH);
            return -1;
        }
        rc = *j->p == '{' ? check_object(j) : check_array(j);
        j->depth--;
        return rc;
    case '"':
        return check_string(j);
    case 't':
        return check_literal(j, "true");
    case 'f':
        return check_literal(j, "false");
    case 'n':
        return check_literal(j, "null");
    default:
        if (*j->p == '-' || isdigit((unsigned char)*j->p))
            return check_number(j);
        return jfail(j, j->p, "a value (object, array, string, number, true, false or null)");
    }
}

/* LINE:COL of `at` in text, both from 1; COL counts UTF-8 characters. */
static void locate(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

int sim_json_parse(const char *file, const char *text, cJSON **out, struct vm_diag *d)
{
    struct jcheck j = { .start = text, .p = text };
    int line, col;
    *out = NULL;
    if (check_value(&j) == 0) {
        skip_ws(&j);
        if (*j.p != '\0')
            jfail(&j, j.p, "end of input after the value");
    }
    if (j.err_at) {
        locate(text, j.err_at, &line, &col);
        return vm_diag_set(d, VM_EPARSE, "%s:%d:%d: malformed JSON: %s", file, line, col, j.msg);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        /* the checker passed it: cJSON ran out of memory or hit its limits */
        locate(text, end ? end : text, &line, &col);
        return vm_diag_set(d, VM_EPARSE, "%s:%d:%d: malformed JSON: rejected by cJSON", file,
                           line, col);
    }
    *out = root;
    return 0;
}

char *sim_json_read_file(const char *file, size_t *len_out)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f) ? (errno == EISDIR ? EISDIR : EIO) : 0;
    fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

int sim_json_load(const char *file, cJSON **out, struct vm_diag *d)
{
    *out = NULL;
    /* stat, not open: a FIFO would block the open, /dev/zero never end */
    struct stat st;
    if (stat(file, &st) != 0)
        return vm_diag_set(d, VM_ENOENT, "%s: cannot read: %s", file, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vm_diag_set(d, VM_EINVAL, "%s: expected a regular file of JSON, got a %s", file,
                           S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO"
                                                                                  : "special file");
    if ((uint64_t)st.st_size > SIM_JSON_MAX_FILE)
        return vm_diag_set(d, VM_EINVAL, "%s: expected a JSON file of at most %u MiB, got %llu bytes",
                           file, (unsigned)(SIM_JSON_MAX_FILE >> 20),
                           (unsigned long long)st.st_size);
    size_t len = 0;
    char *text = sim_json_read_file(file, &len);
    if (!text)
        return vm_diag_set(d, VM_ENOENT, "%s: cannot read: %s", file, strerror(errno));
    if (strlen(text) != len) {
        const char *nul = text + strlen(text);
        int line, col;
        locate(text, nul, &line, &col);
        free(text);
        return vm_diag_set(d, VM_EPARSE, "%s:%d:%d: malformed JSON: expected text, got byte 0x00",
                           file, line, col);
    }
    int rc = sim_json_parse(file, text, out, d);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------- paths */

static bool plain_key(const char *key)
{
    if (!*key)
        return false;
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

static int path_error(const char *text, struct vm_diag *d)
{
    return vm_diag_set(d, VM_EINVAL,
                       "expected a path like 'vm.memory' or 'variants[0].params.block_pages', "
                       "got '%s'", text);
}

int sim_json_path_parse(const char *text, struct sim_json_path *p, struct vm_diag *d)
{
    const char *s = text;
    p->n = 0;
    if (s[0] == '$') {
        if (s[1] == '.')
            s += 2;
        else if (s[1] != '[')
            return path_error(text, d);
        else
            s += 1;
    }
    bool need_key = true;                   /* at start or after '.' */
    while (*s) {
        if (p->n == SIM_JSON_MAX_SEGS)
            return vm_diag_set(d, VM_EINVAL, "expected a path of at most %d parts, got '%s'",
                               SIM_JSON_MAX_SEGS, text);
        struct sim_json_seg *g = &p->seg[p->n];
        memset(g, 0, sizeof *g);
        if (*s == '[') {
            s++;
            if (*s == '"') {
                const char *e = strchr(s + 1, '"');
                if (!e || e[1] != ']' || e == s + 1 || (size_t)(e - s - 1) >= sizeof g->key)
                    return path_error(text, d);
                memcpy(g->key, s + 1, (size_t)(e - s - 1));
                s = e + 2;
            } else if (s[0] == '*' && s[1] == ']') {
                s += 2;
                g->is_index = true;
                g->index = SIM_JSON_ANY_INDEX;
            } else {
                if (!isdigit((unsigned char)*s))
                    return path_error(text, d);
                long v = 0;
                while (isdigit((unsigned char)*s)) {
                    v = v * 10 + (*s - '0');
                    if (v > 1000000)
                        return path_error(text, d);
                    s++;
                }
                if (*s != ']')
                    return path_error(text, d);
                s++;
                g->is_index = true;
                g->index = (int)v;
            }
        } else {
            if (!need_key)
                return path_error(text, d);
            size_t n = strcspn(s, ".[]");
            if (n == 0 || n >= sizeof g->key)
                return path_error(text, d);
            memcpy(g->key, s, n);
            s += n;
        }
        p->n++;
        need_key = false;
        if (*s == '.') {
            s++;
            need_key = true;
            if (!*s)
                return path_error(text, d);
        } else if (*s && *s != '[') {
            return path_error(text, d);
        }
    }
    if (p->n == 0)
        return path_error(text, d);
    return 0;
}

void sim_json_path_text(const struct sim_json_path *p, int n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && i < p->n && o < len; i++) {
        const struct sim_json_seg *g = &p->seg[i];
        int w;
        if (g->is_index && g->index == SIM_JSON_ANY_INDEX)
            w = snprintf(buf + o, len - o, "[*]");
        else if (g->is_index)
            w = snprintf(buf + o, len - o, "[%d]", g->index);
        else if (plain_key(g->key))
            w = snprintf(buf + o, len - o, "%s%s", i ? "." : "", g->key);
        else
            w = snprintf(buf + o, len - o, "[\"%s\"]", g->key);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

void sim_json_pathbuf_init(struct sim_json_pathbuf *b)
{
    strcpy(b->text, "$");
    b->len = 1;
}

static size_t pathbuf_append(struct sim_json_pathbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t pathbuf_append(struct sim_json_pathbuf *b, const char *fmt, ...)
{
    size_t old = b->len;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->text + b->len, sizeof b->text - b->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        b->len += (size_t)w;
    if (b->len >= sizeof b->text)
        b->len = sizeof b->text - 1;
    return old;
}

size_t sim_json_pathbuf_key(struct sim_json_pathbuf *b, const char *key)
{
    if (plain_key(key))
        return pathbuf_append(b, ".%s", key);
    return pathbuf_append(b, "[\"%s\"]", key);
}

size_t sim_json_pathbuf_index(struct sim_json_pathbuf *b, int index)
{
    return pathbuf_append(b, "[%d]", index);
}

void sim_json_pathbuf_pop(struct sim_json_pathbuf *b, size_t len)
{
    b->len = len;
    b->text[len] = '\0';
}

/* ---------------------------------------------------------------- values */

const char *sim_json_type_name(const cJSON *v)
{
    if (!v)
        return "nothing";
    if (cJSON_IsObject(v))
        return "object";
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNull(v))
        return "null";
    return "invalid";
}

const char *sim_json_fmt_number(double v, char *buf, size_t len)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "null");
        return buf;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
        return buf;
    }
    snprintf(buf, len, "%1.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%1.17g", v);
    return buf;
}

const char *sim_json_scalar_text(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, len, "%s", v->valuestring);
        return buf;
    }
    if (cJSON_IsNumber(v))
        return sim_json_fmt_number(v->valuedouble, buf, len);
    if (cJSON_IsBool(v)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return buf;
    }
    return NULL;
}

const char *sim_json_got(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strlen(s) > 40)
            snprintf(buf, len, "\"%.37s...\"", s);
        else
            snprintf(buf, len, "\"%s\"", s);
        return buf;
    }
    if (cJSON_IsNumber(v) || cJSON_IsBool(v))
        return sim_json_scalar_text(v, buf, len);
    snprintf(buf, len, "%s", sim_json_type_name(v));
    return buf;
}
