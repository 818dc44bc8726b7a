# attestation-scale.gp - every host boots within 60 s and attests: 100 to
# 100,000 hosts on 16 attestation nodes.  Per method: latency (median and
# p99) and attestations per second, against the number of hosts.
load ARG0[1:strstrt(ARG0, 'attestation-scale.gp')-1].'vmsim.gp'
V = 'depot depot-cache depot-feed manual export-import union'
nv = words(V)
set logscale x
set format x '%g'
set xlabel 'hosts (log scale)'
set key above horizontal
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1600,1200 font 'Sans,11' } else { set terminal svg size 1600,1200 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,1 title "attestation-scale: a power event, every host boots within 60 s and attests to 16 nodes".quick_note font 'Sans,14'
  set title "Attest request to token: median (solid) and p99 (dashed); the host's TPM quote (datacenter.tpm_quote, 200 ms by default) is most of it, the methods differ by under 0.3 ms"
  set logscale y
  set format y '%g'
  set ylabel 'milliseconds (log scale)'
  plot for [i=0:nv-1] csv using (column('hosts')):(strcol('variant') eq word(V, i+1) ? column('latency_p50_ns') / 1e6 : NaN) with linespoints lw 2 pt 7 lc rgb col(i) title word(V, i+1), \
       for [i=0:nv-1] csv using (column('hosts')):(strcol('variant') eq word(V, i+1) ? column('latency_p99_ns') / 1e6 : NaN) with linespoints lw 2 dt 2 pt 6 lc rgb col(i) notitle
  set title 'Attestations answered per second, all 16 nodes (first to last answer)'
  set ylabel 'attestations per second (log scale)'
  plot for [i=0:nv-1] csv using (column('hosts')):(strcol('variant') eq word(V, i+1) ? column('attest_per_s') : NaN) with linespoints lw 2 pt 7 lc rgb col(i) title word(V, i+1)
  unset multiplot
}
