# tests/calibrate.mk - suite "calibrate": the costs file of `vmsim
# calibrate` (JSON, the loader's errors, the atomic write), the checkpoint
# costs it fills, and one small run of the measurements; suite
# "calib_crypto": the crypto figures, their place in the file and --only
# crypto; calibrate.sh runs `vmsim calibrate --quick` and an experiment on
# its file end to end.  Both suites share tests/calib_rig.*.
CALIB_TEST_SRC = tests/calib_rig.c tests/calib_rig.h
check_PROGRAMS += tests/check_calibrate tests/check_calib_crypto
TESTS += tests/check_calibrate tests/check_calib_crypto tests/e2e/calibrate.sh
EXTRA_DIST += tests/e2e/calibrate.sh
tests_check_calibrate_SOURCES = tests/check_calibrate.c $(CALIB_TEST_SRC)
tests_check_calibrate_CFLAGS = $(TEST_CFLAGS)
tests_check_calibrate_LDADD = $(TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_calibrate_SOURCES = dummy.cxx
tests_check_calib_crypto_SOURCES = tests/check_calib_crypto.c $(CALIB_TEST_SRC)
tests_check_calib_crypto_CFLAGS = $(TEST_CFLAGS)
tests_check_calib_crypto_LDADD = $(TEST_LDADD)
nodist_EXTRA_tests_check_calib_crypto_SOURCES = dummy.cxx
