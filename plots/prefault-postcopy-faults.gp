# prefault-postcopy-faults.gp - post-copy migration under network faults:
# vCPU stall per policy and network condition (no fault, 0.1% and 1% of
# the messages or of the TCP segments lost, a 3 s partition TCP rides out,
# a 10 s partition with a management tool's migrate-pause after 0, 5 or
# 30 s), one row per trace, without (left) and with (right) the
# background push.
load ARG0[1:strstrt(ARG0, 'prefault-postcopy-faults.gp')-1].'vmsim.gp'
V = 'fault-only gpa-4 cluster-3 vma gva-4 gva-adaptive'
NA = 'none loss-0.1pct loss-1pct seg-0.1pct seg-1pct partition-3s partition-10s-pause0 partition-10s-pause5 partition-10s-pause30'
NAT = "'no fault' '0.1% msgs (stress)' '1% msgs (stress)' '0.1% segments' '1% segments' '3 s cut, TCP' '10 s cut, pause 0 s' '10 s cut, pause 5 s' '10 s cut, pause 30 s'"
# the network points the run has (the quick form has five), in NA's order
NP = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"net\")c=i;next}{printf \" %s \", $c}' ".csv)
N = ''
NT = ''
do for [i=1:words(NA)] {
  if (strstrt(NP, ' '.word(NA, i).' ')) { N = N.' '.word(NA, i); NT = NT." '".word(NAT, i)."'" }
}
W = system("awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i==\"trace\")c=i;next}!s[$c]++{printf \"%s \", $c}' ".csv)
nw = words(W)
nn = words(N)
bw = 0.8 / nn
x(v, n) = idx(V, v) + (idx(N, n) - (nn - 1) / 2.0) * bw
set xrange [-0.6:words(V) - 0.4]
set xtics rotate by 30 right ('fault only' 0, 'GPA +-4' 1, 'cluster (page-cluster 3)' 2, 'VMA readahead' 3, 'GVA +-4' 4, 'GVA adaptive' 5)
set boxwidth bw
set key outside right top vertical title 'network:'
set bmargin 7
set tmargin 5
# 'seq-scan.pagetrace' -> 'seq-scan'
tname(w) = strstrt(w, '.pagetrace') ? w[1:strstrt(w, '.pagetrace')-1] : w
set logscale y
set ylabel 'vCPU stall (s, log scale)'
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1700,(440 * nw + 120) font 'Sans,11' } else { set terminal svg size 1700,(440 * nw + 120) font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout nw,2 title 'prefault-postcopy-faults: post-copy of a '.vm_size.' VM over 10 GbE'.quick_note."\n".'TCP recovers lost segments by SACK/RACK, a lost tail by a loss probe (10 ms; a lone segment 200 ms), then timeouts (200 ms, doubling);'."\n".'a partition (cut) is ridden out by TCP unless a management tool calls migrate-pause (pause N s), and post-copy resumes 1 s after the link is back' font 'Sans,14'
  do for [j=1:nw] {
    do for [p in 'false true'] {
      set title 'trace '.tname(word(W, j)).', '.(p eq 'true' ? 'with the background push' : 'requested pages only')
      plot for [i=1:nn] csv using (x(strcol('variant'), word(N, i))):(strcol('trace') eq word(W, j) && strcol('push') eq p && strcol('net') eq word(N, i) ? column('stall_ns') / 1e9 : NaN) with boxes lc rgb col(i-1) title word(NT, i)
    }
  }
  unset multiplot
}
