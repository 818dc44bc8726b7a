# tests/timer.mk - suite "timer": the timer port's queue (vm_timerq.c),
# its test fake (fake_timer.c) and its SimGrid implementation (sim_timer.c)
check_PROGRAMS += tests/check_timer
TESTS += tests/check_timer
tests_check_timer_SOURCES = tests/check_timer.c tests/sim_rig.c tests/sim_rig.h \
	tests/fakes/fake_timer.c tests/fakes/fake_timer.h \
	tests/fakes/fake_clock.c tests/fakes/fake_clock.h
tests_check_timer_CFLAGS = $(TEST_CFLAGS)
tests_check_timer_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_timer_SOURCES = dummy.cxx
