# attestation-attacks.gp - each attack against each method: tokens issued
# (accepts) and refusals, the false rejects among them, the stale accepts
# (a withdrawn version accepted before the policy knew), and the false
# accepts, which must be 0.
load ARG0[1:strstrt(ARG0, 'attestation-attacks.gp')-1].'vmsim.gp'
V = 'depot depot-cache depot-feed manual export-import union'
A = 'tamper unknown replay wrong_key malformed withdraw freeze rollback bad_sig bad_alg depot_down node_crash revoked_key mix_and_match'
nv = words(V)
bw = 0.8 / nv
x(a, v) = idx(A, a) + (idx(V, v) - (nv - 1) / 2.0) * bw
stats csv using (column('false_accepts')) name 'FA' nooutput
verdict = sprintf('false accepts, every attack and method: %d', int(FA_sum))
set xrange [-0.6:words(A)-0.4]
set xtics ("tampered\nbinary" 0, "component\nin no depot" 1, "replayed\nquote" 2, "wrong\nkey" 3, "malformed\nrequest" 4, "version\nwithdrawn" 5, "frozen\ndepot view" 6, "rolled-back\ndepot" 7, "bad depot\nsignature" 8, "unknown\nalgorithm" 9, "depot\ndown" 10, "node\ncrash" 11, "revoked\ndepot key" 12, "mix-and-\nmatch" 13)
set bmargin 6
set boxwidth bw
set key above horizontal
set logscale y
set format y '%g'
set yrange [0.8:*]
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 2000,1600 font 'Sans,11' } else { set terminal svg size 2000,1600 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 3,1 title "attestation-attacks: each attack from 30 min to the end of the 90 min run (hosts 0-99 where it is on hosts)".quick_note."\n".verdict font 'Sans,14'
  set title 'Refusals (rejects): forged evidence and withdrawn versions refused, legitimate hosts refused while the depot cannot be trusted (golden values: a withdrawal not yet known is a stale accept)'
  set ylabel 'refusals (log scale)'
  plot for [i=0:nv-1] csv using (x(strcol('attack'), strcol('variant'))):(strcol('variant') eq word(V, i+1) && column('refusals') > 0 ? column('refusals') : NaN) with boxes lc rgb col(i) title word(V, i+1)
  set title 'Of them, legitimate hosts refused (false rejects)'
  set ylabel 'false rejects (log scale)'
  plot for [i=0:nv-1] csv using (x(strcol('attack'), strcol('variant'))):(strcol('variant') eq word(V, i+1) && column('false_rejects') > 0 ? column('false_rejects') : NaN) with boxes lc rgb col(i) title word(V, i+1)
  set title 'Stale accepts: tokens for a withdrawn version before the method knew it was withdrawn'
  set ylabel 'stale accepts (log scale)'
  plot for [i=0:nv-1] csv using (x(strcol('attack'), strcol('variant'))):(strcol('variant') eq word(V, i+1) && column('stale_accepts') > 0 ? column('stale_accepts') : NaN) with boxes lc rgb col(i) title word(V, i+1)
  unset multiplot
}
