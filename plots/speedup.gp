# Speed-up of one model over another, time(base) / time(new), as heatmaps over
# batch × sequence length, prefill beside decode.
# Variables: datadir, nx, ny, xtics_s, ytics_s (tic labels), smin, smax,
# base, new, hwname, setting.
width = 1300; height = 600
load dir.'/common.gp'
set multiplot layout 1, 2 title sprintf("Speed-up of %s over %s (time %s / time %s): %s", \
	new, base, base, new, setting)
unset key
unset grid
eval('set xtics ('.xtics_s.')')
eval('set ytics ('.ytics_s.')')
set xrange [-0.5:nx-0.5]
set yrange [-0.5:ny-0.5]
set xlabel 'sequence length S (tokens)'
set ylabel 'batch B'
set cblabel 'speed-up (×)'
lo = (smin < 1) ? smin : 1
# every cell at 1x (a model against itself): a range around it
hi = (smax > lo) ? smax : lo + 0.1
set cbrange [lo:hi]
set palette defined (0 '#f7fbff', 1 '#6baed6', 2 '#08306b')
if (lo < 1) set palette defined (0 '#b2182b', (1-lo)/(hi-lo)*2 '#f7f7f7', 2 '#08306b')
# cell values: white on the dark end of the palette, black elsewhere
mid = lo + 0.6*(hi - lo)
dark(v) = v > mid ? sprintf('%.2f', v) : ''
light(v) = v > mid ? '' : sprintf('%.2f', v)
do for [ph=0:1] {
	set title (ph == 0 ? 'prefill (S tokens)' : 'one decode step (KV length S)')
	plot datadir.'/speedup.dat' index ph using 1:2:3 with image, \
	     '' index ph using 1:2:(dark($3)) with labels font ',9' tc rgb '#ffffff', \
	     '' index ph using 1:2:(light($3)) with labels font ',9' tc rgb '#000000'
}
unset multiplot
