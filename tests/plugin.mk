# tests/plugin.mk - suite "plugin": a tiny mechanism defined in the test
# program, linked with the core library only (no mechanism of vmsim's),
# driven through config, -j 2 sweep, result files, check and list.
check_PROGRAMS += tests/check_plugin
TESTS += tests/check_plugin
tests_check_plugin_SOURCES = tests/check_plugin.c
tests_check_plugin_CFLAGS = $(TEST_CFLAGS)
tests_check_plugin_LDADD = $(CORE_TEST_LDADD)
# the core library holds a C++ shim: link with the C++ driver
nodist_EXTRA_tests_check_plugin_SOURCES = dummy.cxx
