# bench/bench.mk - benchmarks of the trace readers and binary cache, and
# bench/scale_point.sh (one checkpoint-scale point timed), and
# bench/prefault_big_ws.sh (the prefault swap scenario on a 1 GiB
# synthetic working set)
# (built by `make bench`).
EXTRA_PROGRAMS += bench/bench_trace
bench_bench_trace_SOURCES = bench/bench_trace.c
bench_bench_trace_LDADD = libvmsim_core.a libvmsim_base.a $(VMSIM_LIBS)
# one checkpoint-scale point: wall, CPU and peak RSS (a script, not built)
EXTRA_DIST += bench/scale_point.sh bench/prefault_point.sh
# the prefault swap scenario on a generated 1 GiB working set (a script)
EXTRA_DIST += bench/prefault_big_ws.sh
# peak RSS of a run on a trace touching one page per 1 GiB region (a script)
EXTRA_DIST += bench/sparse_trace.sh
EXTRA_DIST += bench/consolidation_big.sh bench/consolidation-speed.md bench/handoff_campaign.sh
