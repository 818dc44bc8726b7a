# consolidation-trace.gp - the recorded file-I/O traces as the guest's load
# (sqlite transactions with fsyncs; tar packing and unpacking), per method:
# total time, longest stun, write latency p99 and write throughput during
# the job.
load ARG0[1:strstrt(ARG0, 'consolidation-trace.gp')-1].'vmsim.gp'
V = 'mirror mirror-target-only mirror-selective offline helper qemu-background qemu-write-blocking qemu-write-blocking-unfixed'
# the traces, as their file names begin (the sweep's label is the file name)
T = 'sqlite-txn tar-pack-unpack'
TN = "'sqlite transactions with fsyncs' 'tar packing and unpacking /usr/include'"
nv = words(V)
nt = words(T)
setting = form eq 'quick' ? '1 GiB delta of a 64 GiB disk' : '8 GiB delta of a 64 GiB disk'
bw = 0.8 / nt
# the bar of trace j (0-based) in the group of method v
x(v, j) = idx(V, v) + (j - (nt - 1) / 2.0) * bw
is(j) = strstrt(strcol('trace'), word(T, j)) > 0
set xrange [-0.6:nv - 0.4]
set xtics ("mirror" 0, "mirror,\ntarget\nonly" 1, "mirror,\nselective" 2, "offline" 3, "helper\nsnapshot" 4, "QEMU\nbackground" 5, "QEMU\nwrite-\nblocking" 6, "QEMU\nwrite-\nblocking,\nunfixed" 7)
set bmargin 8
set boxwidth bw
set key above horizontal maxrows 1
set xlabel 'consolidation method' offset 0,-2
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'consolidation-trace: merging the '.setting.' on a SATA SSD under recorded file-I/O traces replayed in a loop'.quick_note font 'Sans,14'
  set title 'Total time, job start to consolidated or to the timeout ("timeout": never converged)'
  set ylabel 'total time (s)'
  unset logscale y
  set yrange [0:*]
  plot for [j=1:nt] csv using (x(strcol('variant'), j - 1)):(sel(is(j), column('total_ns') / 1e9)) with boxes lc rgb col(j-1) title word(TN, j), \
       for [j=1:nt] '' using (x(strcol('variant'), j - 1)):(sel(is(j), column('total_ns') / 1e9)):(sel(is(j), column('converged')) == 0 ? 'timeout' : '') with labels rotate by 90 right offset 0,-0.5 tc rgb '#000000' notitle
  set title 'Longest VM stun (log scale; no bar: no stun, the copy never converged)'
  set ylabel 'stun (s)'
  set logscale y
  set yrange [1e-3:*]
  plot for [j=1:nt] csv using (x(strcol('variant'), j - 1)):(sel(is(j) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with boxes lc rgb col(j-1) title word(TN, j)
  set title 'Guest write latency p99 during the job (log scale)'
  set ylabel 'write latency p99 (ms)'
  set autoscale y
  plot for [j=1:nt] csv using (x(strcol('variant'), j - 1)):(sel(is(j), column('write_p99_during_ns') / 1e6)) with boxes lc rgb col(j-1) title word(TN, j)
  set title 'Guest write throughput during the job (no bar: no write completed during the job)'
  set ylabel 'write throughput (MiB/s)'
  unset logscale y
  set yrange [0:*]
  plot for [j=1:nt] csv using (x(strcol('variant'), j - 1)):(sel(is(j), column('write_tput_during') / 1048576)) with boxes lc rgb col(j-1) title word(TN, j)
  set autoscale y
  unset multiplot
}
