# tests/calibrate.mk - suite "calibrate": the costs file of `vmsim
# calibrate` (JSON, the loader's errors, the atomic write), the checkpoint
# costs it fills, and one small run of the measurements; calibrate.sh runs
# `vmsim calibrate --quick` and an experiment on its file end to end.
check_PROGRAMS += tests/check_calibrate
TESTS += tests/check_calibrate tests/e2e/calibrate.sh
EXTRA_DIST += tests/e2e/calibrate.sh
tests_check_calibrate_SOURCES = tests/check_calibrate.c
tests_check_calibrate_CFLAGS = $(TEST_CFLAGS)
tests_check_calibrate_LDADD = $(TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_calibrate_SOURCES = dummy.cxx
