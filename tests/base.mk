# tests/base.mk - unit tests of models/base, one test program per module
# or pair of small modules (one Check suite per module): err and units,
# bitmap, hist, rand, fp and fpstore, param.
CHECK_BASE_PROGS = tests/check_base_units tests/check_base_bitmap tests/check_base_hist \
	tests/check_base_rand tests/check_base_fp tests/check_base_param
check_PROGRAMS += $(CHECK_BASE_PROGS)
TESTS += $(CHECK_BASE_PROGS)
tests_check_base_units_SOURCES = tests/check_base_units.c
tests_check_base_units_CFLAGS = $(TEST_CFLAGS)
tests_check_base_units_LDADD = $(CORE_TEST_LDADD)
tests_check_base_bitmap_SOURCES = tests/check_base_bitmap.c
tests_check_base_bitmap_CFLAGS = $(TEST_CFLAGS)
tests_check_base_bitmap_LDADD = $(CORE_TEST_LDADD)
tests_check_base_hist_SOURCES = tests/check_base_hist.c
tests_check_base_hist_CFLAGS = $(TEST_CFLAGS)
tests_check_base_hist_LDADD = $(CORE_TEST_LDADD)
tests_check_base_rand_SOURCES = tests/check_base_rand.c
tests_check_base_rand_CFLAGS = $(TEST_CFLAGS)
tests_check_base_rand_LDADD = $(CORE_TEST_LDADD)
tests_check_base_fp_SOURCES = tests/check_base_fp.c
tests_check_base_fp_CFLAGS = $(TEST_CFLAGS)
tests_check_base_fp_LDADD = $(CORE_TEST_LDADD)
tests_check_base_param_SOURCES = tests/check_base_param.c
tests_check_base_param_CFLAGS = $(TEST_CFLAGS)
tests_check_base_param_LDADD = $(CORE_TEST_LDADD)
