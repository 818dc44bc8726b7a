# prefault-window.gp - the window k (pages) against vCPU stall, bytes
# read, coverage and accuracy, for the guest-physical window and the
# guest-virtual windows (solid: first trace, dashed: second).
load ARG0[1:strstrt(ARG0, 'prefault-window.gp')-1].'vmsim.gp'
V = 'gpa gva-sym gva-fwd'
W = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"trace\")c=i;next}!s[$c]++{printf \"%s \", $c}' ".csv)
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64)
set xlabel 'window k (pages)'
set key above horizontal title 'window:'
set tmargin 7
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1500,1200 font 'Sans,11' } else { set terminal svg size 1500,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'prefault-window: resuming a '.vm_size.' VM, traces '.W.'(solid, dashed)'.quick_note font 'Sans,14'
  set title 'vCPU stall (log scale)'
  set ylabel 'stall (ms)'
  set logscale y
  plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('k')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j), column('stall_ns') / 1e6)) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  set title 'Bytes read from the image (log scale)'
  set ylabel 'bytes read (MiB)'
  plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('k')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j), column('bytes_read') / 1048576)) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  unset logscale y
  set yrange [0:105]
  set title 'Coverage: major faults avoided against demand paging'
  set ylabel 'coverage (%)'
  plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('k')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j), column('coverage_pct'))) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  set title 'Accuracy: prefetched pages the guest used'
  set ylabel 'accuracy (%)'
  plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('k')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j), column('accuracy_pct'))) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  unset multiplot
}
