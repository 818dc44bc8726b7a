# checkpoint-scale.gp - the five save methods as guest memory grows.
load ARG0[1:strstrt(ARG0, 'checkpoint-scale.gp')-1].'vmsim.gp'
V = 'stop-and-copy lazy-bgsnap lazy-4k-ios pre-copy buffered'
set logscale x 2
set xlabel 'guest memory (GiB)'
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-scale: save time and cost against VM size (NVMe SSD)'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time'
  set ylabel 'completion time (s)'
  set autoscale y
  set logscale y
  plot for [i=1:words(V)] csv using (gib(strcol('memory'))):(sel(strcol('variant') eq word(V, i), column('completion_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  set title 'Longest VM stun'
  set ylabel 'stun (ms)'
  plot for [i=1:words(V)] csv using (gib(strcol('memory'))):(sel(strcol('variant') eq word(V, i), column('stun_max_ns') / 1e6)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  set title 'Checkpoint-file write I/Os'
  set ylabel 'write I/Os (count)'
  plot for [i=1:words(V)] csv using (gib(strcol('memory'))):(sel(strcol('variant') eq word(V, i), column('write_ios'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  set title 'Guest stall in trace faults'
  set ylabel 'guest stall (ms, log; 0 not shown)'
  plot for [i=1:words(V)] csv using (gib(strcol('memory'))):(sel(strcol('variant') eq word(V, i), column('guest_stall_ns') > 0 ? column('guest_stall_ns') / 1e6 : NaN)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  unset multiplot
}
