# bench/bench.mk - benchmarks of the trace readers and binary cache
# (built by `make bench`).
EXTRA_PROGRAMS += bench/bench_trace
bench_bench_trace_SOURCES = bench/bench_trace.c
bench_bench_trace_LDADD = libvmsim_sim.a libvmsim_models.a $(VMSIM_LIBS)
