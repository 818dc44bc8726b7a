# handoff-crash.gp - the owner host of four VM disks crashes and stays down;
# HA restarts the VMs elsewhere 15 s later.  Per method: time from the HA
# restart to each disk open (median and worst), and how long each disk was
# unavailable counted from the crash; the safety figures in the title.
load ARG0[1:strstrt(ARG0, 'handoff-crash.gp')-1].'vmsim.gp'
V = 'handoff manual lease force force-fenced'
stats csv using (column('double_writer_windows')) name 'DW' nooutput
stats csv using (column('violations')) name 'VI' nooutput
stats csv using (column('false_takeovers')) name 'FT' nooutput
verdict = sprintf('safety violations: %d; double-writer windows: %d; live owners displaced: %d', int(VI_sum), int(DW_sum), int(FT_sum))
set xrange [-0.6:4.6]
set xtics ("handoff\n(the patent)" 0, "manual\nunlock" 1, "sanlock\nlease" 2, "forced break\n(no fencing)" 3, "forced takeover\n(fenced)" 4)
set bmargin 6
set logscale y
set format y '%g'
set yrange [1e-4:1e4]
set boxwidth 0.35
set key above horizontal
set ylabel 'seconds (log scale)'
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,700 font 'Sans,11' } else { set terminal svg size 1600,700 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 1,2 title "handoff-crash: 8 VM disks on h0-h1 of 8 hosts, h0 crashes at 30 s and stays down, HA restarts its 4 VMs 15 s later".quick_note."\n".verdict font 'Sans,14'
  set title 'Time from the HA restart to the disk open on the new host'
  plot csv using (idx(V, strcol('variant')) - 0.18):(column('open_p50_ns') / 1e9) with boxes lc rgb col(0) title 'median', \
       '' using (idx(V, strcol('variant')) + 0.18):(column('open_max_ns') / 1e9) with boxes lc rgb col(1) title 'worst', \
       '' using (idx(V, strcol('variant')) + 0.18):(column('open_max_ns') / 1e9):(dur(column('open_max_ns') / 1e9)) with labels offset 0,0.8 notitle
  set title 'Disk unavailable: host crash to the disk open elsewhere (worst)'
  plot csv using (idx(V, strcol('variant'))):(column('unavail_max_ns') / 1e9) with boxes lc rgb col(2) title 'worst of the 4 disks', \
       '' using (idx(V, strcol('variant'))):(column('unavail_max_ns') / 1e9):(dur(column('unavail_max_ns') / 1e9)) with labels offset 0,0.8 notitle
  unset multiplot
}
