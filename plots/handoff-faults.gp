# handoff-faults.gp - random fault schedules (Jepsen style) on a 32-host
# cluster.  Per method: the share of schedules with a safety violation,
# and the time to open over every need the schedules raised.
load ARG0[1:strstrt(ARG0, 'handoff-faults.gp')-1].'vmsim.gp'
V = 'handoff manual lease force force-fenced'
stats csv using (column('episodes')) name 'EP' nooutput
set xrange [-0.6:4.6]
set xtics ("handoff\n(the patent)" 0, "manual\nunlock" 1, "sanlock\nlease" 2, "forced break\n(no fencing)" 3, "forced takeover\n(fenced)" 4)
set bmargin 6
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,700 font 'Sans,11' } else { set terminal svg size 1600,700 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 1,2 title sprintf("handoff-faults: %d random fault schedules per method (crashes, daemon crashes, partitions, loss, delay, freezes, slow datastore) on 32 hosts", int(EP_max)).quick_note font 'Sans,14'
  set title 'Schedules with a safety violation (double writer, lost acknowledged write or split owner)'
  set yrange [0:105]
  set ylabel '% of schedules'
  set boxwidth 0.5
  plot csv using (idx(V, strcol('variant'))):(100.0 * column('episodes_violating') / column('episodes')) with boxes lc rgb col(5) title 'violating', \
       '' using (idx(V, strcol('variant'))):(100.0 * column('episodes_violating') / column('episodes')):(sprintf('%d of %d', column('episodes_violating'), column('episodes'))) with labels offset 0,0.8 notitle
  set title 'Need to disk open, over every need met (labels: needs that failed, still pending at the episode end)'
  set logscale y
  set format y '%g'
  set yrange [1e-4:1e4]
  set ylabel 'seconds (log scale)'
  set boxwidth 0.35
  plot csv using (idx(V, strcol('variant')) - 0.18):(column('opened') > 0 ? column('open_p50_ns') / 1e9 : NaN) with boxes lc rgb col(0) title 'median', \
       '' using (idx(V, strcol('variant')) + 0.18):(column('opened') > 0 ? column('open_p99_ns') / 1e9 : NaN) with boxes lc rgb col(1) title 'p99', \
       '' using (idx(V, strcol('variant'))):(4e3):(sprintf('failed %d\npending %d\nof %d', column('failed'), column('unresolved'), column('needs'))) with labels notitle
  unset logscale y
  unset multiplot
}
