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
