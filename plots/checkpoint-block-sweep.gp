# checkpoint-block-sweep.gp - buffered checkpointing: block size B against
# blocks per storage block N, without and with compression.
load ARG0[1:strstrt(ARG0, 'checkpoint-block-sweep.gp')-1].'vmsim.gp'
N = '2 4 8 16'
set logscale x 2
set xlabel 'block size B (pages per block)'
set key above horizontal title 'N (blocks per storage block):'
do for [t in 'png svg'] {
  if (t eq 'png') { set terminal pngcairo size 1400,1100 font 'Sans,11' } else { set terminal svg size 1400,1100 font 'Sans,11' dynamic }
  set output out.'.'.t
  set multiplot layout 2,2 title 'checkpoint-block-sweep: buffered checkpoint, '.vm_size.' VM, write-heavy guest (solid: uncompressed, dashed: zstd)'.quick_note font 'Sans,14'
  set title 'Checkpoint completion time'
  set ylabel 'completion time (s)'
  unset logscale y
  set yrange [0:*]
  plot for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'false' && strcol('sblock_blocks') eq word(N, i), column('completion_ns') / 1e9)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(N, i), \
       for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'true' && strcol('sblock_blocks') eq word(N, i), column('completion_ns') / 1e9)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Guest stall in trace faults'
  set ylabel 'guest stall (ms)'
  plot for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'false' && strcol('sblock_blocks') eq word(N, i), column('guest_stall_ns') / 1e6)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(N, i), \
       for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'true' && strcol('sblock_blocks') eq word(N, i), column('guest_stall_ns') / 1e6)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  set title 'Checkpoint-file write I/Os (log scale)'
  set ylabel 'write I/Os (count)'
  set autoscale y
  set logscale y
  plot for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'false' && strcol('sblock_blocks') eq word(N, i), column('write_ios'))) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(N, i), \
       for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'true' && strcol('sblock_blocks') eq word(N, i), column('write_ios'))) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset logscale y
  set yrange [0:*]
  set title 'Bytes written to the checkpoint file'
  set ylabel 'bytes written (GiB)'
  plot for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'false' && strcol('sblock_blocks') eq word(N, i), column('bytes_written') / 2**30)) with linespoints lw 2 pt 7 lc rgb col(i-1) title word(N, i), \
       for [i=1:words(N)] csv using (column('block_pages')):(sel(strcol('compress') eq 'true' && strcol('sblock_blocks') eq word(N, i), column('bytes_written') / 2**30)) with linespoints lw 2 dt 2 pt 6 lc rgb col(i-1) notitle
  unset multiplot
}
