# tests/prefault.mk - Check suites of the prefault policies with the fake
# backing store and the shared rig: the baselines and the patent's windows
# (check_prefault), record and replay and the broken test-only policies
# (check_prefault_replay)
check_PROGRAMS += tests/check_prefault tests/check_prefault_replay
TESTS += tests/check_prefault tests/check_prefault_replay
PREFAULT_RIG = tests/prefault_rig.c tests/prefault_rig.h tests/fakes/fake_backing.c \
	tests/fakes/fake_backing.h
tests_check_prefault_SOURCES = tests/check_prefault.c $(PREFAULT_RIG)
tests_check_prefault_CFLAGS = $(TEST_CFLAGS)
tests_check_prefault_LDADD = $(TEST_LDADD)
tests_check_prefault_replay_SOURCES = tests/check_prefault_replay.c $(PREFAULT_RIG)
tests_check_prefault_replay_CFLAGS = $(TEST_CFLAGS)
tests_check_prefault_replay_LDADD = $(TEST_LDADD)
