# Decode throughput against time per output token as the batch grows from 1 to
# the largest that fits, one line per model and device (attnroof size --plot).
# Variables: datadir, nser, context.
width = 1000; height = 700
load dir.'/common.gp'
set title sprintf("decode throughput against time per output token, context %d", context)
set logscale x 10
set logscale y 10
set format x '%g'
set format y '%g'
set xlabel 'time per output token (ms)'
set ylabel 'decode throughput (tokens/s)'
set key top left
plot for [s=0:nser-1] datadir.'/size-latency.dat' index s using 2:3 with linespoints pt 7 lc (s+1)
