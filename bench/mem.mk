# bench/mem.mk - replay-core throughput (make bench; run bench/bench_replay)
EXTRA_PROGRAMS += bench/bench_replay
bench_bench_replay_SOURCES = bench/bench_replay.c
bench_bench_replay_LDADD = libvmsim_core.a libvmsim_base.a $(VMSIM_LIBS)
