# consolidation-size.gp - the delta's size swept (1 GiB to 1 TiB on a 1 TiB
# virtual disk on an NVMe SSD, lambda/B = 0.3): how total time, the longest
# stun, the copy ratio and the guest's write latency scale with what there
# is to copy.  Hollow points: not converged (total time = the timeout).
load ARG0[1:strstrt(ARG0, 'consolidation-size.gp')-1].'vmsim.gp'
V = 'mirror mirror-target-only offline helper qemu-background qemu-write-blocking'
nv = words(V)
setting = form eq 'quick' ? '64 GiB disk' : '1 TiB disk'
ok(c) = column('converged') != 0
# one method's points: lines through all, filled where converged, hollow where not
set xlabel 'delta size (GiB, log scale)'
set logscale x 2
set format x '%g'
set logscale y
set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.05
unset key
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1250 font 'Sans,11' } else { set terminal svg size 1600,1250 font 'Sans,11' dynamic }
  set output out.'.'.t
  # what the legend-only plot at the end of the last page changed
  unset key
  set border 3
  set xtics auto nomirror
  set ytics auto nomirror
  set grid ytics lc rgb '#dddddd'
  set autoscale
  set xlabel 'delta size (GiB, log scale)'
  set logscale x 2
  set logscale y
  set multiplot title 'consolidation-size: consolidating ever larger deltas of a '.setting.' on an NVMe SSD, lambda/B = 0.3'.quick_note font 'Sans,14'
  set tmargin 3
  set size 0.5, 0.45
  set origin 0, 0.47
  set title 'Total time, job start to consolidated or to the timeout (log scale)'
  set ylabel 'total time (s)'
  plot for [i=1:nv] csv using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i), column('total_ns') / 1e9)) with lines lw 2 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && ok(0), column('total_ns') / 1e9)) with points pt 7 ps 1.3 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && !ok(0), column('total_ns') / 1e9)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1)
  set origin 0.5, 0.47
  set title 'Longest VM stun (log scale; no point: no stun, the copy never converged)'
  set ylabel 'stun (s)'
  plot for [i=1:nv] csv using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with lines lw 2 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && ok(0) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with points pt 7 ps 1.3 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && !ok(0) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1)
  set origin 0, 0
  set title 'Copy ratio: bytes copied / bytes to consolidate at the start (log scale)'
  set ylabel 'copy ratio (bytes / bytes)'
  plot for [i=1:nv] csv using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && column('copy_ratio') > 0, column('copy_ratio'))) with lines lw 2 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && ok(0) && column('copy_ratio') > 0, column('copy_ratio'))) with points pt 7 ps 1.3 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && !ok(0) && column('copy_ratio') > 0, column('copy_ratio'))) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1)
  set origin 0.5, 0
  set title 'Guest write latency p99 during the job (log scale)'
  set ylabel 'write latency p99 (ms)'
  plot for [i=1:nv] csv using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i), column('write_p99_during_ns') / 1e6)) with lines lw 2 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && ok(0), column('write_p99_during_ns') / 1e6)) with points pt 7 ps 1.3 lc rgb col(i-1), \
       for [i=1:nv] '' using (gib(strcol('delta'))):(sel(strcol('variant') eq word(V, i) && !ok(0), column('write_p99_during_ns') / 1e6)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1)
  # one legend for the four panels, across the top of the figure
  set origin 0, 0
  set size 1, 1
  unset border
  unset tics
  unset grid
  unset title
  unset xlabel
  unset ylabel
  unset logscale
  set xrange [0:1]
  set yrange [0:1]
  set key at screen 0.5, screen 0.94 center center horizontal maxrows 2 samplen 1 width 1 title 'method:'
  plot for [i=1:nv] NaN with linespoints lw 2 pt 7 ps 1.3 lc rgb col(i-1) title word(V, i), \
       NaN with points pt 7 ps 1.3 lc rgb '#000000' title 'filled: converged', \
       NaN with points pt 6 ps 1.6 lw 2 lc rgb '#000000' title 'hollow: not converged, total time = the timeout'
  unset multiplot
}
