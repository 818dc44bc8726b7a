# prefault-swap.gp - host swap-in: vCPU stall, major faults, coverage and
# accuracy per policy and trace.
load ARG0[1:strstrt(ARG0, 'prefault-swap.gp')-1].'vmsim.gp'
V = 'fault-only gpa-4 cluster-3 vma leap gva-4 gva-4-decode gva-fwd-8 gva-table gva-adaptive'
W = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"trace\")c=i;next}!s[$c]++{printf \"%s \", $c}' ".csv)
nw = words(W)
bw = 0.8 / nw
x(v, w) = idx(V, v) + (idx(W, w) - (nw - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics rotate by 30 right ('fault only' 0, 'GPA +-4' 1, 'cluster (page-cluster 3)' 2, 'VMA readahead' 3, 'Leap' 4, 'GVA +-4 (hardware)' 5, 'GVA +-4 (decode)' 6, 'GVA 8 ahead' 7, 'GVA last-level table' 8, 'GVA adaptive (+-4 at most)' 9)
set boxwidth bw
set key outside right top vertical title 'trace:'
set bmargin 8
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1800,1300 font 'Sans,11' } else { set terminal svg size 1800,1300 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'prefault-swap: a '.vm_size.' guest with host memory for half its working set, swap on a SATA SSD'.quick_note font 'Sans,14'
  set logscale y
  set title 'vCPU stall until the trace ends (log scale)'
  set ylabel 'stall (ms)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) ? column('stall_ns') / 1e6 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set title 'Major faults (log scale)'
  set ylabel 'major faults (count)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) ? column('major_faults') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset logscale y
  set yrange [-100:105]
  set title 'Coverage: major faults avoided vs demand paging (<0: more)'
  set ylabel 'coverage (%)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) ? column('coverage_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set yrange [0:105]
  set title 'Accuracy: prefetched pages the guest used (no bar: nothing prefetched)'
  set ylabel 'accuracy (%)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) ? column('accuracy_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset multiplot
}
