# tests/prefault.mk - Check suite of the prefault policies with the fake
# backing store and the shared rig (check_prefault)
check_PROGRAMS += tests/check_prefault
TESTS += tests/check_prefault
PREFAULT_RIG = tests/prefault_rig.c tests/prefault_rig.h tests/fakes/fake_backing.c \
	tests/fakes/fake_backing.h
tests_check_prefault_SOURCES = tests/check_prefault.c $(PREFAULT_RIG)
tests_check_prefault_CFLAGS = $(TEST_CFLAGS)
tests_check_prefault_LDADD = $(TEST_LDADD)
