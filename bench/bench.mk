# bench/bench.mk - benchmarks of the trace readers and binary cache
# (built by `make bench`).
EXTRA_PROGRAMS += bench/bench_trace
bench_bench_trace_SOURCES = bench/bench_trace.c
bench_bench_trace_LDADD = libvmsim_core.a libvmsim_base.a $(VMSIM_LIBS)
