# checkpoint-channels.gp - save channels (saver threads) against completion,
# stun, guest slowdown and the disk's write rate, per save method, on NVMe
# (solid) and SATA (dashed).
load ARG0[1:strstrt(ARG0, 'checkpoint-channels.gp')-1].'vmsim.gp'
V = 'stopcopy precopy buffered buffered-zstd'
set logscale x 2
set xlabel 'save channels (saver threads, one core each)'
set key above horizontal title 'save method:'
set tmargin 7
set xtics (1, 2, 4, 8)
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-channels: '.vm_size.' VM, write-heavy guest (solid: NVMe, dashed: SATA)'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time (log scale)'
  set ylabel 'completion time (s)'
  set logscale y
  plot for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-nvme', column('completion_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-sata', column('completion_ns') / 1e9)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Longest stun (log scale)'
  set ylabel 'longest stun (ms)'
  plot for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-nvme', column('stun_max_ns') / 1e6)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-sata', column('stun_max_ns') / 1e6)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset logscale y
  set yrange [0:*]
  set title 'Guest slowdown during the save'
  set ylabel 'guest slowdown (% of the save window)'
  plot for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-nvme', column('guest_slowdown_pct'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-sata', column('guest_slowdown_pct'))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Checkpoint-file write rate'
  set ylabel 'bytes written / completion time (MB/s)'
  plot for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-nvme', column('bytes_written') / (column('completion_ns') / 1e3))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('channels')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-sata', column('bytes_written') / (column('completion_ns') / 1e3))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset multiplot
}
