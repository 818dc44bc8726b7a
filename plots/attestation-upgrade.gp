# attestation-upgrade.gp - a rolling upgrade across the datacenter: new
# versions of 10 packages published at 1 h, a wave upgrading the hosts.
# Per method: legitimate hosts refused at once (the most in each half hour
# of the 12 h run), and the time from the release to the first and last
# host token on it.  The -held variants start the wave only once every
# node's policy has the release.
load ARG0[1:strstrt(ARG0, 'attestation-upgrade.gp')-1].'vmsim.gp'
V = 'depot depot-cache depot-feed manual export-import union export-import-held union-held'
nv = words(V)
# the run is 43200 s in 24 slots (columns refused_hosts_t00.._t23): 0.5 h each
slot_h = 43200.0 / 24 / 3600
stats csv using (column('false_accepts')) name 'FA' nooutput
verdict = sprintf('false accepts, every method: %d', int(FA_sum))
tot = ''
do for [i=1:nv] {
  stats csv using (strcol('variant') eq word(V, i) ? column('false_rejects') : 0) name 'S' nooutput
  tot = tot.sprintf(' %d', int(S_sum))
}
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,1 title "attestation-upgrade: new versions of 10 of 40 packages published at 1 h, hosts upgraded in a wave".quick_note."\n".verdict font 'Sans,14'
  set title 'Legitimate hosts refused at once (the most in each half hour; legend: false rejects in all)'
  set key above horizontal
  set xlabel 'time since the power-on (hours)'
  set ylabel 'hosts refused (log scale)'
  set logscale y
  set format y '%g'
  set yrange [0.8:*]
  set xrange [0:12]
  set xtics 1
  set arrow 1 from 1, graph 0 to 1, graph 1 nohead dt 2 lc rgb '#666666'
  set label 1 'release' at 1.05, graph 0.95 left
  plot for [i=0:nv-1] for [k=0:23] csv using ((k + 0.5) * slot_h + (i - (nv - 1) / 2.0) * 0.06):(strcol('variant') eq word(V, i+1) ? (column(sprintf('refused_hosts_t%02d', k)) > 0 ? column(sprintf('refused_hosts_t%02d', k)) : NaN) : NaN) with points pt 7 ps 1.2 lc rgb col(i) notitle, \
       for [i=0:nv-1] keyentry with points pt 7 ps 1.2 lc rgb col(i) title word(V, i+1).' ('.word(tot, i+1).' in all)'
  unset arrow 1
  unset label 1
  set title 'Release to the first and to the last host attesting with the new versions (none: no host did within the run)'
  unset logscale y
  set yrange [0:*]
  set xrange [-0.6:nv-0.4]
  set xlabel ''
  set ylabel 'minutes'
  set xtics ("depot\n(the patent)" 0, "depot-cache" 1, "depot-feed" 2, "manual\ngolden values" 3, "export-import\n(vSphere TA)" 4, "union list\n(Keylime)" 5, "export-import\nheld wave" 6, "union list\nheld wave" 7)
  set boxwidth 0.35
  set key above horizontal title ''
  plot csv using (idx(V, strcol('variant')) - 0.18):(column('release_first_ns') / 60e9) with boxes lc rgb col(0) title 'first host', \
       '' using (idx(V, strcol('variant')) + 0.18):(column('release_last_ns') / 60e9) with boxes lc rgb col(1) title 'last host', \
       '' using (idx(V, strcol('variant'))):(0):(column('release_last_ns') > 0 ? '' : 'none') with labels offset 0,1 notitle
  unset multiplot
}
