# checkpoint-vcpus.gp - vCPUs against completion, stun, guest slowdown and
# the 99th-percentile exit latency, per save method, for the write-heavy
# generator (solid) and copies of the sort trace (dashed).
load ARG0[1:strstrt(ARG0, 'checkpoint-vcpus.gp')-1].'vmsim.gp'
V = 'stop-and-copy lazy-bgsnap pre-copy pre-copy-ac buffered'
set logscale x 2
set xtics (1, 2, 4, 8)
set xlabel 'vCPUs (each replaying its own stream)'
set key above horizontal title 'save method:'
set tmargin 7
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-vcpus: '.vm_size.' VM on SATA (solid: write-heavy generators, dashed: copies of sort)'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time (log scale)'
  set ylabel 'completion time (s)'
  set logscale y
  plot for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'write-heavy', column('completion_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'sort', column('completion_ns') / 1e9)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Longest stun (log scale)'
  set ylabel 'longest stun (ms)'
  plot for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'write-heavy', column('stun_max_ns') / 1e6)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'sort', column('stun_max_ns') / 1e6)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset logscale y
  set yrange [0:*]
  set title 'Guest slowdown during the save (all vCPUs)'
  set ylabel 'guest slowdown (% of vCPU time)'
  plot for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'write-heavy', column('guest_slowdown_pct'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'sort', column('guest_slowdown_pct'))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set autoscale y
  set logscale y
  set title '99th-percentile write-fault latency (log scale; methods with faults)'
  set ylabel 'fault p99 (us)'
  plot for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'write-heavy' && column('fault_p99_ns') > 0, column('fault_p99_ns') / 1e3)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (column('vcpus')):(sel(strcol('variant') eq word(V, i) && strcol('workload') eq 'sort' && column('fault_p99_ns') > 0, column('fault_p99_ns') / 1e3)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset multiplot
}
