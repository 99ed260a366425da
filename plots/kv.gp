# KV-cache size against context length, one line per model, with the device's
# main memory as a horizontal line.
# Variables: datadir, nser, capacity (bytes), memname, batch, kvbits, hwname.
width = 1000; height = 700
load dir.'/common.gp'
set title sprintf("KV cache, all layers, batch %d, %d-bit, against %s %s", batch, kvbits, hwname, memname)
set logscale x 2
set logscale y 10
set format x '2^{%L}'
set format y '%g'
set xlabel 'context length (tokens)'
set ylabel 'KV cache (GB, 10^9 bytes)'
set key top left
plot for [s=0:nser-1] datadir.'/kv.dat' index s using 1:($2/1e9) with linespoints pt 7 lc (s+1), \
     capacity/1e9 title sprintf('%s %s capacity (%.0f GB)', hwname, memname, capacity/1e9) \
	lc rgb '#cc0000' dt 2 lw 2
