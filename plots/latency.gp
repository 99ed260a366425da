# Prefill and decode time against sequence length (at batch at_batch) and
# against batch (at sequence length at_seq), one line per model.
# Variables: datadir, nser, at_batch, at_seq, hwname, setting.
width = 1200; height = 900
load dir.'/common.gp'
set multiplot layout 2, 2 title sprintf("Latency per forward pass: %s", setting)
set logscale xy 2
set logscale y 10
set format y '%g'
set key top left
set ylabel 'time (ms)'
set xlabel 'sequence length S (tokens)'
set title sprintf('prefill of S tokens, batch %d', at_batch)
plot for [s=0:nser-1] datadir.'/latency_seq.dat' index s using 1:2 with linespoints pt 7 lc (s+1)
set title sprintf('one decode step at KV length S, batch %d', at_batch)
plot for [s=0:nser-1] datadir.'/latency_seq.dat' index s using 1:3 with linespoints pt 9 lc (s+1)
set xlabel 'batch B (sequences)'
set title sprintf('prefill, S = %d', at_seq)
plot for [s=0:nser-1] datadir.'/latency_batch.dat' index s using 1:2 with linespoints pt 7 lc (s+1)
set title sprintf('one decode step, KV length %d', at_seq)
plot for [s=0:nser-1] datadir.'/latency_batch.dat' index s using 1:3 with linespoints pt 9 lc (s+1)
unset multiplot
