# consolidation-closed.gp - every consolidation method on consolidation-
# compare's VM under a closed-loop guest (32 requests always outstanding,
# no rate): longest stun, time to READY and total time, the guest's write
# throughput before, during and after the job, and the copy ratio.
load ARG0[1:strstrt(ARG0, 'consolidation-closed.gp')-1].'vmsim.gp'
V = 'mirror mirror-target-only mirror-selective offline helper helper-no-force qemu-background qemu-write-blocking qemu-write-blocking-unfixed'
nv = words(V)
setting = form eq 'quick' ? '1 GiB delta of an 8 GiB disk' : '8 GiB delta of a 64 GiB disk'
# bar j of n in the group of method v
x(v, j, n) = idx(V, v) + (j - (n - 1) / 2.0) * 0.8 / n
set xrange [-0.6:nv - 0.4]
set xtics ("mirror" 0, "mirror,\ntarget\nonly" 1, "mirror,\nselective" 2, "offline" 3, "helper\nsnapshot" 4, "helper,\nno\nforce" 5, "QEMU\nback-\nground" 6, "QEMU\nwrite-\nblocking" 7, "QEMU\nwrite-\nblocking,\nunfixed" 8)
set bmargin 8
set key above horizontal
set xlabel 'consolidation method' offset 0,-2
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1150 font 'Sans,11' } else { set terminal svg size 1600,1150 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'consolidation-closed: merging the '.setting.' into its base on a SATA SSD under a closed-loop guest (32 requests outstanding, no rate)'.quick_note font 'Sans,14'
  set title "Longest VM stun (log scale; a job that did not consolidate is labelled)"
  set ylabel 'stun (s)'
  set logscale y
  set yrange [1e-3:*]
  set boxwidth 0.5
  plot csv using (idx(V, strcol('variant'))):(column('stun_max_ns') > 0 ? column('stun_max_ns') / 1e9 : NaN) with boxes lc rgb col(0) title 'max stun', \
       '' using (idx(V, strcol('variant'))):(column('stun_max_ns') > 0 ? column('stun_max_ns') / 1e9 * 4 : 3e-3):(column('converged') == 0 ? "not\nconverged" : '') with labels font ',9' tc rgb '#D55E00' notitle
  set title 'Time to READY (copy converged) and total time (to consolidated or the timeout; log scale)'
  set ylabel 'time (s)'
  set yrange [*:*]
  set autoscale y
  set boxwidth 0.8 / 2
  plot csv using (x(strcol('variant'), 0, 2)):(column('converged') != 0 ? column('ready_ns') / 1e9 : NaN) with boxes lc rgb col(0) title 'time to READY', \
       '' using (x(strcol('variant'), 1, 2)):(column('total_ns') / 1e9) with boxes lc rgb col(1) title 'total time', \
       '' using (idx(V, strcol('variant'))):(column('total_ns') / 1e9):(column('converged') == 0 ? (strcol('variant') eq 'helper-no-force' && column('iterations') >= 9 ? "gave up\nat cap" : "timed\nout") : '') with labels offset 0,1.6 font ',9' tc rgb '#D55E00' notitle
  set title "Guest write throughput before, during and after the job (what the closed loop achieves)"
  set ylabel 'guest writes (MB/s)'
  unset logscale y
  set yrange [0:*]
  set boxwidth 0.8 / 3
  plot csv using (x(strcol('variant'), 0, 3)):(column('write_tput_before') / 1e6) with boxes lc rgb col(4) title 'before', \
       '' using (x(strcol('variant'), 1, 3)):(column('write_tput_during') / 1e6) with boxes lc rgb col(5) title 'during', \
       '' using (x(strcol('variant'), 2, 3)):(column('write_tput_after') / 1e6) with boxes lc rgb col(2) title 'after', \
       '' using (x(strcol('variant'), 1, 3)):(45):(column('write_tput_during') < 1e6 ? "VM\nstopped" : '') with labels font ',9' tc rgb '#D55E00' notitle
  set title 'Copy ratio: bytes copied / bytes to consolidate at the start (log scale)'
  set ylabel 'copy ratio (bytes / bytes)'
  set logscale y
  set yrange [*:*]
  set autoscale y
  set boxwidth 0.5
  plot csv using (idx(V, strcol('variant'))):(column('copy_ratio') > 0 ? column('copy_ratio') : NaN) with boxes lc rgb col(3) title 'copy ratio'
  unset multiplot
}
