# tests/transport.mk - suite "transport": the transport port on SimGrid
# (sim_transport.c) and the two-host platforms (check_transport)
check_PROGRAMS += tests/check_transport
TESTS += tests/check_transport
tests_check_transport_SOURCES = tests/check_transport.c
tests_check_transport_CFLAGS = $(TEST_CFLAGS)
tests_check_transport_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_transport_SOURCES = dummy.cxx
