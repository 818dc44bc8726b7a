/*
 * calib_rig.h - what the costs-file suites share (check_calibrate,
 * check_calib_crypto): a scratch directory per test, one calibration
 * with known figures (every figure, the crypto ones included) and its
 * file with one edit applied.  Every function fails the running Check
 * test on an unexpected result.
 */
#ifndef CALIB_RIG_H
#define CALIB_RIG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sim_calib.h"

/* The test's scratch directory: made by calib_setup, removed with all it
 * holds by calib_teardown (a Check checked fixture). */
extern char calib_dir[256];
void calib_setup(void);
void calib_teardown(void);
/* calib_dir/name into buf[len]. */
void calib_path_in(char *buf, size_t len, const char *name);

/* A calibration with known figures: levels 1 and 3, every class, the
 * anonymous fault and the seven crypto figures (medians not on a 0.1 ns
 * boundary, so rounding shows). */
void calib_known(struct sim_calib *c);
/* calib_known()'s JSON with `edit` applied (NULL: none), written to
 * calib_dir/name, with no final newline. */
void calib_write_costs(const char *name, void (*edit)(cJSON *root));

/* o's member key; fails the test when there is none. */
const cJSON *calib_get(const cJSON *o, const char *key);
/* A measured figure: finite, > 0, p10 <= median <= p90, some samples. */
void calib_assert_fig(const char *name, const struct sim_calib_fig *f);

/* The crypto figures in the file's order: their keys, and figure i of k. */
#define CALIB_NR_CRYPTO 7
extern const char *const calib_crypto_keys[CALIB_NR_CRYPTO];
const struct sim_calib_fig *calib_crypto_fig(const struct sim_calib_crypto *k, int i);

#endif
