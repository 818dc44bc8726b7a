# handoff-pause.gp - HA wrongly believes h0 dead while h0, alive, is cut
# off from the requester only, from the datastore only, or from every other
# host.  Per cut and method: time to open or the outcome (refused: the live
# owner kept its disk; never), and the safety figures.
load ARG0[1:strstrt(ARG0, 'handoff-pause.gp')-1].'vmsim.gp'
V = 'handoff manual lease force force-fenced'
C = '5s 30s 100s 200s'
nv = words(V)
bw = 0.8 / nv
x(c, v) = idx(C, c) + (idx(V, v) - (nv - 1) / 2.0) * bw
outcome(op, rf) = op > 0 ? '' : rf > 0 ? 'refused' : 'never'
set xrange [-0.6:3.6]
set xtics ("frozen 5 s" 0, "frozen 30 s" 1, "frozen 100 s" 2, "frozen 200 s" 3)
set bmargin 6
set boxwidth bw
set key above horizontal title 'method:'
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,1 title "handoff-pause: h0, running its VM on disk 0, freezes at 10 s; HA restarts the VM on h1 at 12 s; h0 wakes up and writes".quick_note font 'Sans,14'
  set title 'Restart to disk open on h1 (refused: the live owner kept its disk; never: not within the 40 min run)'
  set logscale y
  set format y '%g'
  set yrange [1e-5:1e4]
  set ylabel 'seconds (log scale)'
  plot for [i=0:nv-1] keyentry with boxes lc rgb col(i) title word(V, i+1), \
       for [i=0:nv-1] csv using (x(strcol('pause'), strcol('variant'))):(strcol('variant') eq word(V, i+1) && column('opened') > 0 ? column('open_max_ns') / 1e9 : NaN) with boxes lc rgb col(i) notitle, \
       '' using (x(strcol('pause'), strcol('variant'))):(column('opened') > 0 ? column('open_max_ns') / 1e9 : 2e-5):(column('opened') > 0 ? dur(column('open_max_ns') / 1e9) : outcome(column('opened'), column('refused'))) with labels rotate by 90 left offset 0,0.5 notitle
  set title 'Safety: live owner displaced (bars), its late writes fenced ("f"), intervals with two writers ("2w"), watchdog resets ("wd")'
  unset logscale y
  set yrange [0:2]
  set ytics 1
  set ylabel 'live owners displaced'
  plot for [i=0:nv-1] csv using (x(strcol('pause'), strcol('variant'))):(strcol('variant') eq word(V, i+1) ? column('false_takeovers') : NaN) with boxes lc rgb col(i) title word(V, i+1), \
       '' using (x(strcol('pause'), strcol('variant'))):(column('false_takeovers') + 0.05):(sprintf('f %d\n2w %d\nwd %d', column('stale_writes_refused'), column('double_writer_windows'), column('watchdog_resets'))) with labels left rotate by 90 font ',9' notitle
  set ytics auto
  unset multiplot
}
