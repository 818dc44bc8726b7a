# bench/guest.mk - guest page-table walks, neighbour translations, table
# memory and fragmentation (make bench; run bench/bench_guest [--quick])
EXTRA_PROGRAMS += bench/bench_guest
bench_bench_guest_SOURCES = bench/bench_guest.c
bench_bench_guest_LDADD = libvmsim_base.a -lm
