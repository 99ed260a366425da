# Shared setup for every attnroof plot.  attnroof passes, on gnuplot's command
# line: term ('png', 'svg' or 'dumb'), out (the image file; '' = stdout) and
# the plot's own variables.  Each script sets width and height (pixels) first.
if (!exists("width")) width = 1000
if (!exists("height")) height = 700
if (term eq 'png') {
	set terminal pngcairo size width, height enhanced font 'DejaVu Sans,11' linewidth 1.5
} else {
	if (term eq 'svg') {
		set terminal svg size width, height enhanced font 'DejaVu Sans,11' background '#ffffff'
	} else {
		set terminal dumb size 120, 40 aspect 2, 1
	}
}
if (strlen(out) > 0) set output out
set encoding utf8
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 0.5
set key box opaque samplen 2
set datafile missing '?'
# blocks in the data files open with a quoted title line
set key autotitle columnheader
