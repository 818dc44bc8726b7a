# attestation-depot-outage.gp - the depot unreachable from 20 min to 50 min
# of an 80 min run (every message to or from its host lost).  Per method:
# legitimate hosts refused at once (the most in each 200 s slot), and the
# totals.
load ARG0[1:strstrt(ARG0, 'attestation-depot-outage.gp')-1].'vmsim.gp'
V = 'depot depot-cache depot-feed manual export-import union'
nv = words(V)
# the run is 4800 s in 24 slots (columns refused_hosts_t00.._t23): 200 s each
slot_min = 4800.0 / 24 / 60
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,1 title "attestation-depot-outage: the depot unreachable from 20 to 50 min; hosts re-attest every 7.5 min".quick_note font 'Sans,14'
  set title 'Legitimate hosts refused at once (the most in each 200 s); the shaded band is the outage'
  set key above horizontal
  set xlabel 'minutes'
  set ylabel 'hosts refused'
  set xrange [0:80]
  set yrange [0:*]
  set object 1 rect from 20, graph 0 to 50, graph 1 fc rgb '#eeeeee' fs solid noborder behind
  plot for [i=0:nv-1] for [k=0:23] csv using ((k + 0.5) * slot_min + (i - (nv - 1) / 2.0) * 0.4):(strcol('variant') eq word(V, i+1) ? column(sprintf('refused_hosts_t%02d', k)) : NaN) with impulses lw 4 lc rgb col(i) notitle, \
       for [i=0:nv-1] keyentry with lines lw 4 lc rgb col(i) title word(V, i+1)
  unset object 1
  set title 'The whole run: false rejects, refusals and timeouts'
  set xrange [-0.6:nv-0.4]
  set xlabel ''
  set ylabel 'count'
  set xtics ("depot\n(the patent)" 0, "depot-cache" 1, "depot-feed" 2, "manual\ngolden values" 3, "export-import\n(vSphere TA)" 4, "union list\n(Keylime)" 5)
  set boxwidth 0.25
  set key above horizontal title ''
  plot csv using (idx(V, strcol('variant')) - 0.26):(column('false_rejects')) with boxes lc rgb col(0) title 'false rejects', \
       '' using (idx(V, strcol('variant'))):(column('refusals')) with boxes lc rgb col(1) title 'refusals', \
       '' using (idx(V, strcol('variant')) + 0.26):(column('timeouts')) with boxes lc rgb col(2) title 'timeouts'
  unset multiplot
}
