# The longest context that fits, one group of bars per model and one bar per
# device (attnroof size --plot).
# Variables: datadir, nhw, batch.
width = 1000; height = 700
load dir.'/common.gp'
set title sprintf("longest context that fits at batch %d", batch)
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set format y '%.0f'
set ylabel 'context (tokens)'
set yrange [0:*]
set key top right
plot for [c=2:nhw+1] datadir.'/size-context.dat' using c:xtic(1)
