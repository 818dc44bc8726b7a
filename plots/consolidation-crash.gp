# consolidation-crash.gp - a host crash at a random instant of the job (one
# instant per seed), a restart, and recovery from the disk alone, per method:
# recovery time, total time, longest stun, and the crashes and invariant
# violations counted in each run (lost acknowledged writes are violations).
load ARG0[1:strstrt(ARG0, 'consolidation-crash.gp')-1].'vmsim.gp'
V = 'mirror mirror-target-only mirror-selective offline helper helper-always qemu-background qemu-write-blocking qemu-write-blocking-unfixed'
nv = words(V)
setting = form eq 'quick' ? '512 MiB delta of a 4 GiB disk, host crash between 1 s and 4 s' : '2 GiB delta of a 16 GiB disk, host crash between 6 s and 30 s'
# the seeds (crash instants) run, and what the runs' invariants say
stats csv using (column('seed')) name 'S' nooutput
stats csv using (column('violations')) name 'VI' nooutput
stats csv using (column('seed') * 0 + (strcol('ok') eq 'true' ? 1 : 0)) name 'OK' nooutput
s0 = int(S_min)
ns = int(S_max) - s0 + 1
verdict = VI_sum == 0 && OK_sum == OK_records ? sprintf('invariant violations 0 in all %d runs, so no acknowledged write lost', int(VI_records)) : sprintf('%d invariant violations, %d of %d runs not ok', int(VI_sum), int(OK_records - OK_sum), int(OK_records))
bw = 0.8 / ns
# the bar of seed s in the group of method v
x(v, s) = idx(V, v) + (s - s0 - (ns - 1) / 2.0) * bw
set xrange [-0.6:nv - 0.4]
set xtics ("mirror" 0, "mirror,\ntarget\nonly" 1, "mirror,\nselective" 2, "offline" 3, "helper\nsnapshot" 4, "helper,\nalways\none first" 5, "QEMU\nbackground" 6, "QEMU\nwrite-\nblocking" 7, "QEMU\nwrite-\nblocking,\nunfixed" 8)
set bmargin 8
set boxwidth bw
set key above horizontal maxrows 1 title 'crash instant drawn from seed:'
set xlabel 'consolidation method' offset 0,-2
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title "consolidation-crash: a host crash during consolidation (".setting.", restart 5 s later, SATA SSD)".quick_note."\n".verdict font 'Sans,14'
  set title 'Recovery time, restart to the chain reopened and checked'
  set ylabel 'recovery time (ms)'
  unset logscale y
  set yrange [0:*]
  plot for [s=s0:s0+ns-1] csv using (x(strcol('variant'), s)):(sel(column('seed') == s, column('recovery_ns') / 1e6)) with boxes lc rgb col(s-s0) title sprintf('%d', s)
  set title 'Total time, to consolidated or the timeout (log scale; "timeout": never converged)'
  set ylabel 'total time (s)'
  set logscale y
  set autoscale y
  plot for [s=s0:s0+ns-1] csv using (x(strcol('variant'), s)):(sel(column('seed') == s, column('total_ns') / 1e9)) with boxes lc rgb col(s-s0) title sprintf('%d', s), \
       for [s=s0:s0+ns-1] '' using (x(strcol('variant'), s)):(sel(column('seed') == s, column('total_ns') / 1e9)):(column('seed') == s && column('converged') == 0 ? 'timeout' : '') with labels rotate by 90 right offset 0,-0.5 tc rgb '#000000' notitle
  set title 'Longest VM stun (log scale; no bar: no stun, the copy never converged)'
  set ylabel 'stun (s)'
  set yrange [1e-3:*]
  plot for [s=s0:s0+ns-1] csv using (x(strcol('variant'), s)):(sel(column('seed') == s && column('stun_max_ns') > 0, column('stun_max_ns') / 1e9)) with boxes lc rgb col(s-s0) title sprintf('%d', s)
  set title 'Host crashes (bars) and invariant violations (red crosses) per run'
  set ylabel 'count per run'
  unset logscale y
  set yrange [-0.1:*]
  set offsets 0, 0, graph 0.1, 0
  set ytics 1
  plot for [s=s0:s0+ns-1] csv using (x(strcol('variant'), s)):(sel(column('seed') == s, column('crashes'))) with boxes lc rgb col(s-s0) title sprintf('%d', s), \
       '' using (x(strcol('variant'), column('seed'))):(column('violations')) with points pt 2 ps 1.5 lw 2 lc rgb '#D55E00' notitle
  set ytics auto
  set offsets 0, 0, 0, 0
  set autoscale y
  unset multiplot
}
