# checkpoint-compare.gp - the four save methods side by side, per workload:
# completion time, longest stun, checkpoint-file write I/Os, guest slowdown.
load ARG0[1:strstrt(ARG0, 'checkpoint-compare.gp')-1].'vmsim.gp'
V = 'stop-and-copy lazy-per-page pre-copy buffered buffered-abits'
W = 'read-mostly write-heavy awk-bigarray'
nw = words(W)
bw = 0.8 / nw
x(v, w) = idx(V, v) + (idx(W, w) - (nw - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics ("stop-and-copy" 0, "lazy per page" 1, "pre-copy" 2, "buffered" 3, "buffered,\nA-bit groups" 4)
set boxwidth bw
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-compare: saving a running 8 GiB VM to a SATA SSD' font 'Sans,14'
  set title 'Checkpoint completion time'
  set ylabel 'completion time (s)'
  unset logscale y
  set yrange [0:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('completion_ns') / 1e9 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Longest VM stun (log scale)'
  set ylabel 'stun (ms)'
  set autoscale y
  set logscale y
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('stun_max_ns') / 1e6 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Checkpoint-file write I/Os (log scale)'
  set ylabel 'write I/Os (count)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('write_ios') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset logscale y
  set yrange [0:*]
  set title 'Guest slowdown during the save (stall + stun over the save window)'
  set ylabel 'guest time lost (%)'
  set yrange [0:*]
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('workload') eq word(W, i) ? column('guest_slowdown_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set autoscale y
  unset multiplot
}
