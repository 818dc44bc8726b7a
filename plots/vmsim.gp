# vmsim.gp - shared definitions for vmsim's gnuplot scripts (loaded by each).
# Every figure script is run as
#   gnuplot -e "csv='DIR/NAME.csv'; out='DIR/NAME'; form='full'; vm_memory='8GiB'" plots/NAME.gp
# reads the CSV that `vmsim run` wrote (one row per record, columns named in
# the header line) and writes out.png and out.svg.
set datafile separator ','
# what ran (vmsim passes them; a hand-run script gets these defaults)
if (!exists('form')) form = 'full'
if (!exists('vm_memory')) vm_memory = ''
# "8GiB" -> "8 GiB", for titles
vm_size = strlen(vm_memory) > 3 ? vm_memory[1:strlen(vm_memory)-3].' '.vm_memory[strlen(vm_memory)-2:] : vm_memory
quick_note = form eq 'quick' ? ' (quick form)' : ''
# NaN marks rows that belong to another series: treated as missing, lines go on
set datafile missing NaN
set key noenhanced
set termoption noenhanced
set style fill solid 0.85 border -1
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
# room for the legend above each panel and for two-line tick labels
set tmargin 5
set bmargin 5
# 0-based position of word w in the space-separated list l (-1 if absent)
idx(l, w) = strstrt(' '.l.' ', ' '.w.' ') == 0 ? -1 : words(substr(' '.l.' ', 1, strstrt(' '.l.' ', ' '.w.' ')))
# "64GiB" / "512MiB" -> GiB
gib(s) = strstrt(s, 'TiB') ? real(s[1:strlen(s)-3]) * 1024.0 : strstrt(s, 'GiB') ? real(s[1:strlen(s)-3]) : (strstrt(s, 'MiB') ? real(s[1:strlen(s)-3]) / 1024.0 : real(s))
# the colour of series i (colour-blind safe, Okabe-Ito)
col(i) = word('#0072B2 #E69F00 #009E73 #CC79A7 #56B4E9 #D55E00 #F0E442 #000000 #999999 #882255', int(i) % 10 + 1)
# v when cond holds, else a missing point (selects one series' rows)
sel(cond, v) = cond ? v : NaN
# a duration in seconds as text in a fitting unit ("4.5 s", "29.8 min", "211 us")
dur(s) = s >= 120 ? sprintf('%.1f min', s / 60.0) : s >= 1 ? sprintf('%.3g s', s) : s >= 1e-3 ? sprintf('%.3g ms', s * 1e3) : sprintf('%.3g us', s * 1e6)
