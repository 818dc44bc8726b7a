# tests/handoff/handoff.mk - the handoff model's Check suites, in a world
# of fake timers, a queueing transport with drops and a timed block device
# (ho_world.h).
HO_WORLD = tests/handoff/ho_world.c tests/handoff/ho_world.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h tests/fakes/fake_timer.c tests/fakes/fake_timer.h
check_PROGRAMS += tests/check_handoff
TESTS += tests/check_handoff
tests_check_handoff_SOURCES = tests/handoff/check_handoff.c $(HO_WORLD)
tests_check_handoff_CFLAGS = $(TEST_CFLAGS)
tests_check_handoff_LDADD = $(TEST_LDADD)
# the issue's test list: owner alive/dead/slow, two requesters, partitions;
# a message lost and the requester crashed at each step; the lock and the
# checker alone
check_PROGRAMS += tests/check_handoff_owner tests/check_handoff_faults tests/check_handoff_ds
TESTS += tests/check_handoff_owner tests/check_handoff_faults tests/check_handoff_ds
tests_check_handoff_owner_SOURCES = tests/handoff/check_handoff_owner.c $(HO_WORLD)
tests_check_handoff_owner_CFLAGS = $(TEST_CFLAGS)
tests_check_handoff_owner_LDADD = $(TEST_LDADD)
tests_check_handoff_faults_SOURCES = tests/handoff/check_handoff_faults.c $(HO_WORLD)
tests_check_handoff_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_handoff_faults_LDADD = $(TEST_LDADD)
tests_check_handoff_ds_SOURCES = tests/handoff/check_handoff_ds.c $(HO_WORLD)
tests_check_handoff_ds_CFLAGS = $(TEST_CFLAGS)
tests_check_handoff_ds_LDADD = $(TEST_LDADD)
# end to end: bad needs, faults, cluster, campaign and variants refused by
# run and validate with one located line; the checker failing a run
# without fencing, the fencing holding, force's double writer a figure,
# the campaign's reproducing schedule replaying
TESTS += tests/e2e/handoff_bad_input.sh tests/e2e/handoff_invariants.sh
EXTRA_DIST += tests/e2e/handoff_bad_input.sh tests/e2e/handoff_invariants.sh
