# tests/ckpt.mk - checkpoint save side: the file format (check_ckpt_file),
# the save policies (check_ckpt_buffered: buffered and zero pages;
# check_ckpt_baselines: stopcopy, lazypage, write errors), the live
# baselines as QEMU runs them
# (check_ckpt_live), with the fake ports (tests/fakes) and the save rig
# (tests/ckpt_rig.*).
CKPT_TEST_SRC = tests/ckpt_rig.c tests/ckpt_rig.h tests/fakes/fake_blk.c tests/fakes/fake_blk.h \
	tests/fakes/fake_mem.c tests/fakes/fake_mem.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h
check_PROGRAMS += tests/check_ckpt_file tests/check_ckpt_buffered tests/check_ckpt_baselines \
	tests/check_ckpt_live
TESTS += tests/check_ckpt_file tests/check_ckpt_buffered tests/check_ckpt_baselines \
	tests/check_ckpt_live
tests_check_ckpt_file_SOURCES = tests/check_ckpt_file.c
tests_check_ckpt_file_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_file_LDADD = $(TEST_LDADD)
tests_check_ckpt_buffered_SOURCES = tests/check_ckpt_buffered.c $(CKPT_TEST_SRC)
tests_check_ckpt_buffered_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_buffered_LDADD = $(TEST_LDADD)
tests_check_ckpt_baselines_SOURCES = tests/check_ckpt_baselines.c $(CKPT_TEST_SRC)
tests_check_ckpt_baselines_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_baselines_LDADD = $(TEST_LDADD)
tests_check_ckpt_live_SOURCES = tests/check_ckpt_live.c $(CKPT_TEST_SRC)
tests_check_ckpt_live_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_live_LDADD = $(TEST_LDADD)
