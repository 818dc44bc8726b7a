# bench/world.mk - host memory with swap (bench_hostmem, no SimGrid) and
# the network transport on SimGrid (bench_transport)
# (make bench; run bench/bench_hostmem [--quick], bench/bench_transport)
EXTRA_PROGRAMS += bench/bench_hostmem
bench_bench_hostmem_SOURCES = bench/bench_hostmem.c
bench_bench_hostmem_LDADD = libvmsim_base.a -lm
EXTRA_PROGRAMS += bench/bench_transport
bench_bench_transport_SOURCES = bench/bench_transport.c
bench_bench_transport_LDADD = libvmsim_core.a libvmsim_base.a $(VMSIM_LIBS)
nodist_EXTRA_bench_bench_transport_SOURCES = dummy.cxx
