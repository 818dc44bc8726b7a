# sim/trace.mk - memory trace readers, the lackey -> pagetrace reduction,
# the binary replay cache and the `vmsim trace` tools (synthetic traces
# included); the file-I/O (blocktrace) reader; the shipped traces;
# the temporary-file registry their writers use.
CORE_SRC += sim/sim_gz.c sim/sim_gz.h sim/sim_trace.c sim/sim_trace.h sim/sim_trace_cache.c sim/sim_trace_reduce.c \
	sim/sim_trace_reduce.h sim/sim_trace_tools.c sim/sim_trace_synth.c sim/sim_trace_synth.h \
	sim/sim_tempfile.c sim/sim_tempfile.h sim/sim_blocktrace.c sim/sim_blocktrace.h
EXTRA_DIST += workloads/traces/README.md workloads/traces/record.sh \
	workloads/traces/awk-bigarray.pagetrace.gz workloads/traces/lua-bigtable.pagetrace.gz \
	workloads/traces/sort-bigrecords.pagetrace.gz workloads/traces/sqlite-blob-index.pagetrace.gz \
	workloads/traces/sqlite3.raw-lackey.gz workloads/traces/sqlite-txn.blocktrace.csv.gz \
	workloads/traces/tar-pack-unpack.blocktrace.csv.gz \
	workloads/traces/seq-scan.pagetrace.gz workloads/traces/strided-16.pagetrace.gz \
	workloads/traces/chase-list.pagetrace.gz workloads/traces/zipf-0.99.pagetrace.gz
