# bench/world.mk - host memory with swap (bench_hostmem, no SimGrid) and
# the network transport on SimGrid (bench_transport)
# (make bench; run bench/bench_hostmem [--quick], bench/bench_transport)
EXTRA_PROGRAMS += bench/bench_hostmem
bench_bench_hostmem_SOURCES = bench/bench_hostmem.c
bench_bench_hostmem_LDADD = libvmsim_base.a -lm
