# prefault-pressure.gp - host memory from 25% to 90% of the working set,
# swap on HDD, SATA and NVMe: vCPU stall per policy (one panel per disk),
# and read I/Os on the HDD.  Reclaim memcg only: the *-kswapd points
# (reclaim kswapd at 50% and 90%) are in the CSV, not drawn.
load ARG0[1:strstrt(ARG0, 'prefault-pressure.gp')-1].'vmsim.gp'
V = 'fault-only gpa-4 cluster-3 vma leap gva-4 gva-adaptive'
D = 'host-hdd host-sata host-nvme'
memcg(x) = strstrt(strcol('memory'), 'kswapd') == 0
set xlabel 'host memory for the guest (fraction of its working set)'
set key above horizontal title 'policy:'
set tmargin 7
set logscale y
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1500,1200 font 'Sans,11' } else { set terminal svg size 1500,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'prefault-pressure: swap-in of a '.vm_size.' guest under memory pressure (awk; gva-4 and gva-adaptive overlap)'.quick_note font 'Sans,14'
  do for [d in D] {
    set title 'vCPU stall, swap on '.(d eq 'host-hdd' ? 'a hard disk' : (d eq 'host-sata' ? 'a SATA SSD' : 'an NVMe SSD')).' (log scale)'
    set ylabel 'stall (s)'
    plot for [i=1:words(V)] csv using (column('memory')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq d && memcg(0), column('stall_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  }
  set title 'Swap read I/Os on the hard disk (log scale)'
  set ylabel 'read I/Os (count)'
  plot for [i=1:words(V)] csv using (column('memory')):(sel(strcol('variant') eq word(V, i) && strcol('disk') eq 'host-hdd' && memcg(0), column('read_ios'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i)
  unset multiplot
}
