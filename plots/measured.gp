# Measured against predicted time (from `attnroof validate --format json`),
# one colour per arch and filled circles for prefill, triangles for decode
# (columns 5 and 6 of the data; the same per series in ptypes and colours),
# with the line of perfect prediction, ±25 % (the accuracy target) and ±2×.
# Variables: datadir, nser, ptypes, colours, has_summary, median_err, p90_err.
width = 900; height = 800
load dir.'/common.gp'
t = 'Predicted against measured time'
if (has_summary) t = t.sprintf(' (median |error| %.3g, p90 %.3g)', median_err, p90_err)
set title t
set logscale xy
set format x '%g'
set format y '%g'
set xlabel 'measured time (ms)'
set ylabel 'predicted time (ms)'
set key top left
set size ratio -1
stats datadir.'/measured.dat' using 1:2 nooutput
lo = (STATS_min_x < STATS_min_y ? STATS_min_x : STATS_min_y) / 3
hi = (STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y) * 3
set xrange [lo:hi]
set yrange [lo:hi]
plot x title 'predicted = measured' lc rgb '#333333' lw 2, \
     1.25*x title '±25 %' lc rgb '#666666' dt 3, 0.75*x notitle lc rgb '#666666' dt 3, \
     2*x title '±2×' lc rgb '#999999' dt 2, x/2 notitle lc rgb '#999999' dt 2, \
     for [s=0:nser-1] datadir.'/measured.dat' index s using 1:2 with points \
         pt int(word(ptypes, s + 1)) ps 1.3 lc int(word(colours, s + 1))
