# tests/config.mk - suites "config" (good configs, check_config_good; bad
# input, check_config_bad; result files and check, check_config_result:
# the three share tests/config_rig.*) and "config_faults" (the faults),
# and the end-to-end bad-input test of the vmsim command line.
CONFIG_TEST_SRC = tests/config_rig.c tests/config_rig.h
check_PROGRAMS += tests/check_config_good tests/check_config_bad tests/check_config_result
TESTS += tests/check_config_good tests/check_config_bad tests/check_config_result \
	tests/e2e/bad_input.sh
tests_check_config_good_SOURCES = tests/check_config_good.c $(CONFIG_TEST_SRC)
tests_check_config_good_CFLAGS = $(TEST_CFLAGS)
tests_check_config_good_LDADD = $(TEST_LDADD)
# libvmsim_sim holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_config_good_SOURCES = dummy.cxx
tests_check_config_bad_SOURCES = tests/check_config_bad.c $(CONFIG_TEST_SRC)
tests_check_config_bad_CFLAGS = $(TEST_CFLAGS)
tests_check_config_bad_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_config_bad_SOURCES = dummy.cxx
tests_check_config_result_SOURCES = tests/check_config_result.c $(CONFIG_TEST_SRC)
tests_check_config_result_CFLAGS = $(TEST_CFLAGS)
tests_check_config_result_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_config_result_SOURCES = dummy.cxx

# suite "config_faults": the config's faults and the instants derived from them
check_PROGRAMS += tests/check_config_faults
TESTS += tests/check_config_faults
tests_check_config_faults_SOURCES = tests/check_config_faults.c
tests_check_config_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_config_faults_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_config_faults_SOURCES = dummy.cxx
EXTRA_DIST += tests/e2e/bad_input.sh \
	tests/e2e/bad/base.json \
	tests/e2e/bad/malformed.json \
	tests/e2e/bad/unknown-key.json \
	tests/e2e/bad/wrong-type.json \
	tests/e2e/bad/bad-unit.json \
	tests/e2e/bad/out-of-range.json \
	tests/e2e/bad/unknown-policy.json \
	tests/e2e/bad/unknown-param.json \
	tests/e2e/bad/missing-file.json \
	tests/e2e/bad/missing-trace.json \
	tests/e2e/bad/missing-key.json \
	tests/e2e/bad/duplicate-variant.json \
	tests/e2e/bad/unknown-metric.json \
	tests/e2e/bad/bad-sweep-path.json \
	tests/e2e/bad/bad-sweep-value.json \
	tests/e2e/bad/crash-at-and-window.json \
	tests/e2e/bad/fault-not-taken.json \
	tests/e2e/bad/not-a-result.json
