# tests/faults.mk - suite "faults": fault injection as a core service
# (sim_faults.c) over the fake timer, without SimGrid
check_PROGRAMS += tests/check_faults
TESTS += tests/check_faults
tests_check_faults_SOURCES = tests/check_faults.c \
	tests/fakes/fake_timer.c tests/fakes/fake_timer.h \
	tests/fakes/fake_clock.c tests/fakes/fake_clock.h
tests_check_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_faults_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_faults_SOURCES = dummy.cxx
