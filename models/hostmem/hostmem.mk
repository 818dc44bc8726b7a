# models/hostmem/hostmem.mk - host memory with swap, for every mechanism
# that pages a guest in and out: a clock evictor, swap slots in eviction
# order, the swap cache, prefetch protection; the backing port over it
# (plain C11, in libvmsim_base.a next to models/guest).
BASE_SRC += models/hostmem/hostmem.c models/hostmem/hostmem_linux.c models/hostmem/hostmem.h
EXTRA_DIST += models/hostmem/hostmem.mk
