# checkpoint-cache.gp - the page cache's dirty limit against completion,
# sync, stun, guest slowdown and device write I/Os, per save method, writes
# through the cache (solid) and O_DIRECT (dashed; the limit does not apply).
load ARG0[1:strstrt(ARG0, 'checkpoint-cache.gp')-1].'vmsim.gp'
V = 'stop-and-copy lazy-bgsnap pre-copy-ac buffered'
set logscale x 2
set xlabel 'page cache dirty limit (GiB, log scale; vm.dirty_bytes)'
set key above horizontal title 'save method (solid: through the page cache, dashed: O_DIRECT):'
set tmargin 7
lim(s) = gib(s)
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' noenhanced } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic noenhanced }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-cache: '.vm_size.' VM, write-heavy guest, SATA SSD, save ends with fdatasync()'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time (until the file is durable)'
  set ylabel 'completion time (s)'
  set logscale y
  plot for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'writeback', column('completion_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'direct', column('completion_ns') / 1e9)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Longest stun (log scale)'
  set ylabel 'longest stun (ms)'
  plot for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'writeback', column('stun_max_ns') / 1e6)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'direct', column('stun_max_ns') / 1e6)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset logscale y
  set yrange [0:*]
  set title 'Guest slowdown during the save (and a paused sync)'
  set ylabel 'guest slowdown (% of the save window)'
  plot for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'writeback', column('guest_slowdown_pct'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'direct', column('guest_slowdown_pct'))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Device write I/Os (log scale)'
  set ylabel 'write I/Os at the disk'
  set logscale y
  set yrange [*:*]
  plot for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'writeback', column('write_ios'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(V, i), \
       for [i=1:words(V)] csv using (lim(strcol('dirty_limit'))):(sel(strcol('variant') eq word(V, i) && strcol('cache') eq 'direct', column('write_ios'))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset multiplot
}
