# handoff-storm.gp - 100 VM disks on one host of a 32-host cluster; the host
# crashes and HA restarts every VM across the others at once.  Per method:
# time to open (median, p99, worst) and the protocol messages per disk.
load ARG0[1:strstrt(ARG0, 'handoff-storm.gp')-1].'vmsim.gp'
V = 'handoff manual lease force force-fenced'
stats csv using (column('failed') + column('unresolved')) name 'FA' nooutput
stats csv using (column('double_writer_windows')) name 'DW' nooutput
verdict = sprintf('needs not met: %d; double-writer windows: %d', int(FA_sum), int(DW_sum))
set xrange [-0.6:4.6]
set xtics ("handoff\n(the patent)" 0, "manual\nunlock" 1, "sanlock\nlease" 2, "forced break\n(no fencing)" 3, "forced takeover\n(fenced)" 4)
set bmargin 6
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,700 font 'Sans,11' } else { set terminal svg size 1600,700 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 1,2 title "handoff-storm: 100 VM disks on h0 of 32 hosts; h0 crashes at 30 s, HA restarts all 100 VMs on the other 31 at 45 s".quick_note."\n".verdict font 'Sans,14'
  set title 'HA restart to disk open, over the 100 disks'
  set logscale y
  set format y '%g'
  set yrange [1e-4:1e4]
  set ylabel 'seconds (log scale)'
  set boxwidth 0.25
  plot csv using (idx(V, strcol('variant')) - 0.26):(column('open_p50_ns') / 1e9) with boxes lc rgb col(0) title 'median', \
       '' using (idx(V, strcol('variant'))):(column('open_p99_ns') / 1e9) with boxes lc rgb col(1) title 'p99', \
       '' using (idx(V, strcol('variant')) + 0.26):(column('open_max_ns') / 1e9) with boxes lc rgb col(2) title 'worst', \
       '' using (idx(V, strcol('variant')) + 0.26):(column('open_max_ns') / 1e9):(dur(column('open_max_ns') / 1e9)) with labels offset 0,0.8 notitle
  set title 'Protocol messages per disk (requests, replies, relays, datastore operations)'
  unset logscale y
  set yrange [0:*]
  set ylabel 'messages per disk'
  set boxwidth 0.5
  plot csv using (idx(V, strcol('variant'))):(column('msgs_per_need')) with boxes lc rgb col(4) title 'messages', \
       '' using (idx(V, strcol('variant'))):(column('msgs_per_need')):(sprintf('%.1f', column('msgs_per_need'))) with labels offset 0,0.8 notitle
  unset multiplot
}
