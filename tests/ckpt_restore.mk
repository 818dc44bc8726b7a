# tests/ckpt_restore.mk - checkpoint restore side: the restore policies'
# shared machinery (the policies themselves are listed in
# models/checkpoint/ckpt.mk) and their unit tests with the fake ports.
check_PROGRAMS += tests/check_ckpt_restore
TESTS += tests/check_ckpt_restore
tests_check_ckpt_restore_SOURCES = tests/check_ckpt_restore.c tests/fakes/fake_blk.c \
	tests/fakes/fake_blk.h tests/fakes/fake_mem.c tests/fakes/fake_mem.h \
	tests/fakes/fake_clock.c tests/fakes/fake_clock.h
tests_check_ckpt_restore_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_restore_LDADD = $(TEST_LDADD)
