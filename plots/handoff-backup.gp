# handoff-backup.gp - a backup proxy's filter daemon still holds a disk when
# its VM is powered on elsewhere.  Per method: time to open (or "never"),
# and what it cost in safety (double-writer windows, live holders displaced).
load ARG0[1:strstrt(ARG0, 'handoff-backup.gp')-1].'vmsim.gp'
V = 'handoff manual lease force force-fenced'
set xrange [-0.6:4.6]
set xtics ("handoff\n(the patent)" 0, "manual\nunlock" 1, "sanlock\nlease" 2, "forced break\n(no fencing)" 3, "forced takeover\n(fenced)" 4)
set bmargin 6
set boxwidth 0.5
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,700 font 'Sans,11' } else { set terminal svg size 1600,700 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 1,2 title "handoff-backup: a backup proxy's daemon on h0 holds disk 0 (a hot-add never released); its VM is powered on on h1 at 10 s".quick_note font 'Sans,14'
  set title 'Power-on to disk open ("never": the open failed for the whole run)'
  set logscale y
  set format y '%g'
  set yrange [1e-5:1e4]
  set ylabel 'seconds (log scale)'
  plot csv using (idx(V, strcol('variant'))):(column('opened') > 0 ? column('open_max_ns') / 1e9 : NaN) with boxes lc rgb col(0) title 'time to open', \
       '' using (idx(V, strcol('variant'))):(column('opened') > 0 ? column('open_max_ns') / 1e9 : 2e-5):(column('opened') > 0 ? dur(column('open_max_ns') / 1e9) : 'never') with labels offset 0,0.8 notitle
  set title 'Safety: intervals with two writers on the disk, live holders displaced'
  unset logscale y
  set format y '%g'
  set yrange [0:*]
  set offsets 0, 0, graph 0.15, 0
  set ylabel 'count'
  set ytics 1
  set boxwidth 0.25
  plot csv using (idx(V, strcol('variant')) - 0.13):(column('double_writer_windows')) with boxes lc rgb col(5) title 'double-writer windows' fs solid 0.85, \
       '' using (idx(V, strcol('variant')) + 0.13):(column('false_takeovers')) with boxes lc rgb col(1) title 'live holders displaced'
  set offsets 0, 0, 0, 0
  set ytics auto
  set boxwidth 0.5
  unset multiplot
}
