# tests/cons_load.mk - Check suite "cons_load": the guest's disk I/O
# stream of the consolidation mechanism (rate, mix, bounds, replay)
check_PROGRAMS += tests/check_cons_load
TESTS += tests/check_cons_load
tests_check_cons_load_SOURCES = tests/check_cons_load.c
tests_check_cons_load_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_load_LDADD = $(TEST_LDADD)
