# tests/base.mk - unit tests of models/base (one program, one suite per module)
check_PROGRAMS += tests/check_base
TESTS += tests/check_base
tests_check_base_SOURCES = tests/check_base.c
tests_check_base_CFLAGS = $(TEST_CFLAGS)
tests_check_base_LDADD = $(CORE_TEST_LDADD)
