# checkpoint-restore.gp - restore methods: time to responsiveness, full
# restore time, read I/Os and wasted prefetch, per workload.
load ARG0[1:strstrt(ARG0, 'checkpoint-restore.gp')-1].'vmsim.gp'
V = 'eager lazy-per-page storage-block storage-block-only-faulting'
W = 'read-mostly sqlite-blob-index'
nw = words(W)
bw = 0.8 / nw
x(v, w) = idx(V, v) + (idx(W, w) - (nw - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics ('eager' 0, 'lazy per page' 1, 'storage block' 2, "storage block,\nfaulting block only" 3)
set boxwidth bw
set key above horizontal
set yrange [0:*]
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-restore: resuming a '.vm_size.' VM from a buffered checkpoint on a SATA SSD'.quick_note font 'Sans,14'
  set title 'Time to responsiveness (first window with <= 10% stall)'
  set ylabel 'time to responsiveness (s)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('ttr_ns') / 1e9 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Full restore time (every page installed; no bar: not within the run)'
  set ylabel 'restore time (s)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('restore_ns') / 1e9 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Checkpoint-file read I/Os (log scale)'
  set ylabel 'read I/Os (count)'
  set autoscale y
  set logscale y
  set yrange [1:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('read_ios') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset logscale y
  set yrange [0:*]
  set title 'Restore faults taken by the guest'
  set ylabel 'restore faults (count)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('restore_faults') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset multiplot
}
