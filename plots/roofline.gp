# Roofline of one device with the ops of one or more analyses as points.
# Variables from attnroof: datadir, nser (blocks: model × {prefill, decode}),
# peak_m and peak_v (matrix and vector peaks, FLOP/s), lvl_names and lvl_bws
# (memory levels with a known bandwidth, B/s), batch, seq, hwname, setting.
width = 1100; height = 750
load dir.'/common.gp'
set title sprintf("Roofline: %s, batch %d, sequence %d", setting, batch, seq)
set logscale xy
set format x '10^{%L}'
set format y '10^{%L}'
set xlabel 'arithmetic intensity (FLOP/byte)'
set ylabel 'attained performance (FLOP/s)'
set xrange [0.05:1e4]
set yrange [1e10:peak_m*3]
set key outside right top
nl = words(lvl_bws)
roof(x, bw, p) = (x*bw < p) ? x*bw : p
set samples 400
# prefill points are circles, decode points triangles; one colour per model,
# later models drawn smaller so that coinciding points stay visible
plot for [i=1:nl] roof(x, word(lvl_bws, i) + 0, peak_m) \
	title sprintf('matrix peak over %s (%.3g TB/s)', word(lvl_names, i), (word(lvl_bws, i) + 0)/1e12) \
	lc rgb '#333333' dt i lw 2, \
     roof(x, word(lvl_bws, 1) + 0, peak_v) \
	title sprintf('vector peak over %s (%.3g TFLOP/s)', word(lvl_names, 1), peak_v/1e12) \
	lc rgb '#999999' dt 2 lw 2, \
     for [s=0:nser-1] datadir.'/roofline.dat' index s using 1:2 with points \
	pt (s % 2 == 0 ? 7 : 9) ps (1.8 - 0.5*(s/2)) lc (s/2 + 1)
