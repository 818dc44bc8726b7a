# prefault-postcopy.gp - post-copy migration: vCPU stall per policy and
# trace without and with the background push, and (without push)
# coverage and the bytes moved over the link.
load ARG0[1:strstrt(ARG0, 'prefault-postcopy.gp')-1].'vmsim.gp'
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
  set multiplot layout 2,2 title 'prefault-postcopy: post-copy migration of a '.vm_size.' VM over 10 GbE'.quick_note font 'Sans,14'
  do for [p in 'false true'] {
    set title 'vCPU stall until the trace ends, '.(p eq 'true' ? 'with the background push (postcopy-preempt)' : 'requested pages only').' (log scale)'
    set ylabel 'stall (ms)'
    set logscale y
    set yrange [*:*]
    plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('push') eq p ? column('stall_ns') / 1e6 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  }
  unset logscale y
  set yrange [-100:105]
  set title 'Coverage: major faults avoided vs demand paging, no push (<0: more)'
  set ylabel 'coverage (%)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('push') eq 'false' ? column('coverage_pct') : NaN) with boxes lc rgb col(i-1) title word(W, i)
  set yrange [0:*]
  set title 'Pages moved over the link (requested pages only)'
  set ylabel 'moved (MiB)'
  plot for [i=1:nw] csv using (x(strcol('variant'), word(W, i))):(strcol('trace') eq word(W, i) && strcol('push') eq 'false' ? column('bytes_read') / 1048576 : NaN) with boxes lc rgb col(i-1) title word(W, i)
  unset multiplot
}
