# consolidation-rate.gp - the guest's write rate lambda swept over the disk's
# write bandwidth B: total time (hollow points: not converged, the run was
# given up at the timeout), longest stun, the work left when the job
# ended (left_bytes over the delta at the start: above 1, the job's backlog
# grew - it diverges), and the guest's write latency p99 during the job.
load ARG0[1:strstrt(ARG0, 'consolidation-rate.gp')-1].'vmsim.gp'
V = 'mirror mirror-target-only offline helper qemu-background qemu-write-blocking qemu-write-blocking-unfixed'
nv = words(V)
setting = form eq 'quick' ? '1 GiB delta of an 8 GiB disk, SATA SSD, given up after 40 s' : '8 GiB delta of a 64 GiB disk, SATA SSD, given up after 20 min'
# the methods' points side by side at each lambda/B (the timeout points coincide)
dx(v) = (idx(V, v) - (nv - 1) / 2.0) * 0.01
ok(c) = column('converged') != 0
set xlabel 'guest write rate / disk write bandwidth (lambda/B)'
set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.05
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
  set xlabel 'guest write rate / disk write bandwidth (lambda/B)'
  set multiplot title 'consolidation-rate: consolidation as the guest write rate approaches the disk bandwidth ('.setting.')'.quick_note font 'Sans,14'
  unset key
  set tmargin 3
  set size 0.5, 0.45
  set origin 0, 0.47
  set logscale y
  set title 'Total time, job start to consolidated or to the timeout (log scale)'
  set ylabel 'total time (s)'
  plot for [i=1:nv] csv using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i), column('total_ns') / 1e9)) with lines lw 2 lc rgb col(i-1) notitle, \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && ok(0), column('total_ns') / 1e9)) with points pt 7 ps 1.3 lc rgb col(i-1) title word(V, i), \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && !ok(0), column('total_ns') / 1e9)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1) notitle
  set origin 0.5, 0.47
  set title 'Longest VM stun (log scale; no point: no stun, the copy never converged)'
  set ylabel 'stun (s)'
  plot for [i=1:nv] csv using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with lines lw 2 lc rgb col(i-1) notitle, \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && ok(0) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with points pt 7 ps 1.3 lc rgb col(i-1) title word(V, i), \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && !ok(0) && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1) notitle
  unset logscale y
  set origin 0, 0
  set title 'Work left when the job ended: bytes the target lacks / the delta at the start'
  set ylabel 'left / delta (0: consolidated; above 1: the backlog grew)'
  set yrange [0:*]
  plot 1 with lines dt 2 lw 1 lc rgb '#888888' notitle, \
       for [i=1:nv] csv using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i), column('left_bytes') / column('delta_bytes'))) with lines lw 2 lc rgb col(i-1) notitle, \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && ok(0), column('left_bytes') / column('delta_bytes'))) with points pt 7 ps 1.3 lc rgb col(i-1) notitle, \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && !ok(0), column('left_bytes') / column('delta_bytes'))) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1) notitle
  set autoscale y
  set logscale y
  set origin 0.5, 0
  set title 'Guest write latency p99 during the job (log scale)'
  set ylabel 'write latency p99 (ms)'
  plot for [i=1:nv] csv using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i), column('write_p99_during_ns') / 1e6)) with lines lw 2 lc rgb col(i-1) notitle, \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && ok(0), column('write_p99_during_ns') / 1e6)) with points pt 7 ps 1.3 lc rgb col(i-1) title word(V, i), \
       for [i=1:nv] '' using (column('lambda_over_b') + dx(word(V, i))):(sel(strcol('variant') eq word(V, i) && !ok(0), column('write_p99_during_ns') / 1e6)) with points pt 6 ps 1.6 lw 2 lc rgb col(i-1) notitle
  unset logscale y
  # one legend for the four panels, across the top of the figure
  set origin 0, 0
  set size 1, 1
  unset border
  unset tics
  unset grid
  unset title
  unset xlabel
  unset ylabel
  set xrange [0:1]
  set yrange [0:1]
  set key at screen 0.5, screen 0.94 center center horizontal maxrows 2 samplen 1 width 1 title 'method:'
  plot for [i=1:nv] NaN with linespoints lw 2 pt 7 ps 1.3 lc rgb col(i-1) title word(V, i), \
       NaN with points pt 7 ps 1.3 lc rgb '#000000' title 'filled: converged', \
       NaN with points pt 6 ps 1.6 lw 2 lc rgb '#000000' title 'hollow: not converged, total time = the timeout'
  unset multiplot
}
