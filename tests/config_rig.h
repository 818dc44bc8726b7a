/*
 * config_rig.h - what the experiment-config suites share
 * (check_config_good, check_config_bad, check_config_result): a fresh
 * temporary directory per test holding the config (exp.json, written with
 * ' for " to keep it readable) and its platform (plat.xml: only has to be
 * readable, loading does not start SimGrid; the validate tests use a
 * shipped platform), loads that must succeed, and loads that must fail
 * with one exact error line.  Every function fails the running Check test
 * on an unexpected result.
 */
#ifndef CONFIG_RIG_H
#define CONFIG_RIG_H

#include <stdbool.h>

#include "sim_config.h"

/* The test's directory and its exp.json: made by config_setup, removed
 * with all they hold by config_teardown (a Check checked fixture). */
extern char g_dir[256];
extern char g_file[320];
void config_setup(void);
void config_teardown(void);

/* The source tree: $VMSIM_SRCDIR or the configured one. */
const char *srcdir(void);
/* Write text to g_dir/name, turning ' into " (configs only). */
void write_text(const char *name, const char *text, bool quotes);
/* json as g_dir/exp.json, with an empty plat.xml. */
void write_cfg(const char *json);
/* Like write_cfg with a shipped platform as plat.xml (for validate, which
 * loads it); false when the tree has none. */
bool write_cfg_real_platform(const char *json);
/* Write json and load it (o may be NULL); it must load without a word.
 * The caller frees it (sim_config_free). */
struct sim_config *load_ok(const char *json, const struct sim_config_opts *o);
/* Load must fail with code and exactly one line: g_file followed by `rest`. */
void expect_error(const char *json, const struct sim_config_opts *o, int code,
                  const char *rest);

/* A good config, and its parts */
#define HEAD "{'name': 't1', 'mechanism': 'checkpoint', 'platform': 'plat.xml', "
#define VM "'vm': {'memory': '8GiB'}, "
#define WL "'workload': {'kind': 'synthetic', 'pattern': 'zipf'}, "
#define VARS "'variants': [{'name': 'sc', 'policy': 'stopcopy'}, " \
             "{'name': 'buf', 'policy': 'buffered', 'params': {'block_pages': 8}}]"
#define GOOD HEAD VM WL VARS "}"

#endif
