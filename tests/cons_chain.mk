# tests/cons_chain.mk - Check suites of the disk chain (models/consolidation/
# cons_chain*) over the fake block device: tables, reads, allocation and
# group commit (check_cons_chain), recovery and the crash sweep
# (check_cons_chain_crash), the reuse of unmapped places (check_cons_chain_reuse)
check_PROGRAMS += tests/check_cons_chain tests/check_cons_chain_crash tests/check_cons_chain_reuse
TESTS += tests/check_cons_chain tests/check_cons_chain_crash tests/check_cons_chain_reuse
CONS_CHAIN_TEST_SRC = tests/cons_chain_rig.c tests/cons_chain_rig.h tests/fakes/fake_blk.c \
	tests/fakes/fake_blk.h
tests_check_cons_chain_SOURCES = tests/check_cons_chain.c $(CONS_CHAIN_TEST_SRC)
tests_check_cons_chain_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_chain_LDADD = $(TEST_LDADD)
tests_check_cons_chain_crash_SOURCES = tests/check_cons_chain_crash.c $(CONS_CHAIN_TEST_SRC)
tests_check_cons_chain_crash_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_chain_crash_LDADD = $(TEST_LDADD)
tests_check_cons_chain_reuse_SOURCES = tests/check_cons_chain_reuse.c $(CONS_CHAIN_TEST_SRC)
tests_check_cons_chain_reuse_CFLAGS = $(TEST_CFLAGS)
tests_check_cons_chain_reuse_LDADD = $(TEST_LDADD)
