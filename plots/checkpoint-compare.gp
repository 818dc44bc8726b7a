# checkpoint-compare.gp - the save methods side by side, per workload:
# completion time, longest stun, checkpoint-file write I/Os, guest slowdown.
load ARG0[1:strstrt(ARG0, 'checkpoint-compare.gp')-1].'vmsim.gp'
V = 'stop-and-copy lazy-bgsnap lazy-4k-ios pre-copy pre-copy-ac buffered buffered-abits'
W = 'read-mostly write-heavy awk-bigarray idle'
nw = words(W)
bw = 0.8 / nw
x(v, w) = idx(V, v) + (idx(W, w) - (nw - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics ("stop-and-\ncopy" 0, "lazy: QEMU\nbackground\nsnapshot" 1, "lazy: 4 KiB\nI/O per page" 2, "pre-copy" 3, "pre-copy,\nauto-converge" 4, "buffered" 5, "buffered,\nA-bit groups" 6)
set boxwidth bw
set key above horizontal
set xlabel "save method"
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1150 font 'Sans,11' } else { set terminal svg size 1600,1150 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-compare: saving a running '.vm_size.' VM to a SATA SSD'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time'
  set ylabel 'completion time (s)'
  unset logscale y
  set yrange [0:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('completion_ns') / 1e9 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Longest VM stun (log scale)'
  set ylabel 'stun (ms)'
  set logscale y
  set yrange [0.1:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('stun_max_ns') / 1e6 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Checkpoint-file write I/Os (log scale)'
  set ylabel 'write I/Os (count)'
  set yrange [1:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('write_ios') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset logscale y
  set yrange [0:*]
  set title 'Guest slowdown during the save (stall + throttle + stun over the save window)'
  set ylabel 'guest time lost (%)'
  set yrange [0:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('guest_slowdown_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set autoscale y
  unset multiplot
}
