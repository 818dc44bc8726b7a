# prefault-fragmentation.gp - vCPU stall and coverage against the guest's
# aging, for resume and swap-in, per policy (solid: first trace, dashed:
# second, dotted: third), and the fragmentation measured.
load ARG0[1:strstrt(ARG0, 'prefault-fragmentation.gp')-1].'vmsim.gp'
V = 'fault-only gpa-4 cluster-3 vma leap gva-4 gva-table'
W = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"trace\")c=i;next}!s[$c]++{printf \"%s \", $c}' ".csv)
set xlabel 'vm.aging (share of guest memory held by its page cache at start)'
set key above horizontal title 'policy:'
set tmargin 7
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1500,1200 font 'Sans,11' } else { set terminal svg size 1500,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'prefault-fragmentation: a '.vm_size.' guest from fresh to aged, traces '.W.'(solid, dashed, dotted)'.quick_note font 'Sans,14'
  do for [sc in 'resume swap'] {
    set title 'vCPU stall, '.(sc eq 'resume' ? 'resume from a guest-physical image' : 'host swap-in at half the working set').' (log scale)'
    set ylabel 'stall (ms)'
    set logscale y
    set yrange [*:*]
    plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('aging')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j) && strcol('scenario') eq sc, column('stall_ns') / 1e6)) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  }
  unset logscale y
  set yrange [*:105]
  set title 'Coverage against demand paging, resume'
  set ylabel 'coverage (%)'
  plot for [j=1:words(W)] for [i=1:words(V)] csv using (column('aging')):(sel(strcol('variant') eq word(V, i) && strcol('trace') eq word(W, j) && strcol('scenario') eq 'resume', column('coverage_pct'))) with linespoints lw 2 dt j pt 7 lc rgb col(i-1) title (j == 1 ? word(V, i) : '')
  set title 'Measured fragmentation: mean run contiguous in GVA and GPA (log scale)'
  set ylabel 'run length (pages)'
  set logscale y
  set yrange [*:*]
  plot for [j=1:words(W)] csv using (column('aging')):(sel(strcol('variant') eq 'fault-only' && strcol('trace') eq word(W, j) && strcol('scenario') eq 'resume', column('frag_run_pages'))) with linespoints lw 2 dt j pt 7 lc rgb col(0) title word(W, j)
  unset multiplot
}
