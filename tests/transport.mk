# tests/transport.mk - suite "transport": the transport port on SimGrid
# (sim_transport.c) and the two-host platforms (check_transport), its
# fault hooks (check_transport_faults), its test fake (check_fake_transport)
check_PROGRAMS += tests/check_transport
TESTS += tests/check_transport
tests_check_transport_SOURCES = tests/check_transport.c tests/transport_rig.c \
	tests/transport_rig.h
tests_check_transport_CFLAGS = $(TEST_CFLAGS)
tests_check_transport_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_transport_SOURCES = dummy.cxx

# suite "transport_faults": its loss and delay hooks
check_PROGRAMS += tests/check_transport_faults
TESTS += tests/check_transport_faults
tests_check_transport_faults_SOURCES = tests/check_transport_faults.c tests/transport_rig.c \
	tests/transport_rig.h
tests_check_transport_faults_CFLAGS = $(TEST_CFLAGS)
tests_check_transport_faults_LDADD = $(CORE_TEST_LDADD)
nodist_EXTRA_tests_check_transport_faults_SOURCES = dummy.cxx

# suite "fake_transport": the deterministic fake model-level tests use
check_PROGRAMS += tests/check_fake_transport
TESTS += tests/check_fake_transport
tests_check_fake_transport_SOURCES = tests/check_fake_transport.c \
	tests/fakes/fake_transport.c tests/fakes/fake_transport.h \
	tests/fakes/fake_clock.c tests/fakes/fake_clock.h
tests_check_fake_transport_CFLAGS = $(TEST_CFLAGS)
# plain C: no SimGrid
tests_check_fake_transport_LDADD = libvmsim_base_san.a $(CHECK_LIBS) $(SAN_FLAGS) -lm
