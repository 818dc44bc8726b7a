# tests/vcpu.mk - suite "vcpu": the vCPU replay actor on its own.
check_PROGRAMS += tests/check_vcpu
TESTS += tests/check_vcpu
tests_check_vcpu_SOURCES = tests/check_vcpu.c
tests_check_vcpu_CFLAGS = $(TEST_CFLAGS)
tests_check_vcpu_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_vcpu_SOURCES = dummy.cxx
