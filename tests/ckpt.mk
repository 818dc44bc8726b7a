# tests/ckpt.mk - checkpoint save side: file format and save policies, with
# the fake ports (tests/fakes) the restore tests share.
check_PROGRAMS += tests/check_ckpt
TESTS += tests/check_ckpt
tests_check_ckpt_SOURCES = tests/check_ckpt.c tests/fakes/fake_blk.c tests/fakes/fake_blk.h \
	tests/fakes/fake_mem.c tests/fakes/fake_mem.h tests/fakes/fake_clock.c \
	tests/fakes/fake_clock.h
tests_check_ckpt_CFLAGS = $(TEST_CFLAGS)
tests_check_ckpt_LDADD = $(TEST_LDADD)
