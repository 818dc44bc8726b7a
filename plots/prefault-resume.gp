# prefault-resume.gp - resuming from a suspend image: vCPU stall per
# policy and trace with the image in guest-physical and in guest-virtual
# order, and (guest-physical image) coverage and accuracy.
load ARG0[1:strstrt(ARG0, 'prefault-resume.gp')-1].'vmsim.gp'
V = 'fault-only gpa-4 cluster-3 vma leap reap halite gva-4 gva-4-decode gva-fwd-8 gva-table gva-adaptive'
W = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"trace\")c=i;next}!s[$c]++{printf \"%s \", $c}' ".csv)
nw = words(W)
bw = 0.8 / nw
x(v, w) = idx(V, v) + (idx(W, w) - (nw - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics rotate by 30 right ('fault only' 0, 'GPA +-4' 1, 'cluster (page-cluster 3)' 2, 'VMA readahead' 3, 'Leap' 4, 'REAP' 5, 'Halite' 6, 'GVA +-4 (hardware)' 7, 'GVA +-4 (decode)' 8, 'GVA 8 ahead' 9, 'GVA last-level table' 10, 'GVA adaptive (+-4 at most)' 11)
set boxwidth bw
set key outside right top vertical title 'trace:'
set bmargin 8
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1800,1300 font 'Sans,11' } else { set terminal svg size 1800,1300 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'prefault-resume: resuming a '.vm_size.' VM from a suspend image on a SATA SSD'.quick_note font 'Sans,14'
  do for [img in 'gpa gva'] {
    set title 'vCPU stall until the trace ends, image in '.(img eq 'gpa' ? 'guest-physical' : 'guest-virtual').' order (log scale)'
    set ylabel 'stall (ms)'
    set logscale y
    set yrange [*:*]
    plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('image') eq img ? column('stall_ns') / 1e6 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  }
  unset logscale y
  set yrange [-100:105]
  set title 'Coverage: major faults avoided vs demand paging, GPA image (<0: more)'
  set ylabel 'coverage (%)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('image') eq 'gpa' ? column('coverage_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set yrange [0:105]
  set title 'Accuracy: prefetched pages the guest used (guest-physical image; no bar: nothing prefetched)'
  set ylabel 'accuracy (%)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('image') eq 'gpa' ? column('accuracy_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset multiplot
}
