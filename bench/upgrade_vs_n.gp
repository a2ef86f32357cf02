# bench/upgrade_vs_n.gp — upgrade time against N, one line per tool, log-log.
#   gnuplot -e "datafile='bench/out/upgrade_vs_n.dat'; outfile='bench/out/upgrade_vs_n.png'" bench/upgrade_vs_n.gp
# datafile: written by bench/report.py (N, then the median ms of each tool in the order
# psql-1tx psql-ntx rbacmig alembic dbmate sqitch).
set terminal pngcairo size 900,600 font "sans,11"
set output outfile
set title "Upgrade from empty: N migrations (CREATE TABLE + CREATE INDEX each), median, PostgreSQL 15, fsync on"
set xlabel "N (migrations)"
set ylabel "time (ms)"
set logscale xy
set xtics ("10" 10, "100" 100, "1000" 1000)
set xrange [7:1400]
set grid xtics ytics mytics
set key top left
set datafile missing "NaN"
plot datafile using 1:4 with linespoints lw 3 pt 7 lc rgb "#7b1fa2" title "rbacmig", \
     datafile using 1:3 with linespoints lw 2 pt 5 dt 2 lc rgb "#000000" title "psql, N transactions (limit)", \
     datafile using 1:2 with linespoints lw 2 pt 4 dt 3 lc rgb "#757575" title "psql, one transaction (limit)", \
     datafile using 1:5 with linespoints lw 2 pt 9 lc rgb "#e65100" title "Alembic", \
     datafile using 1:6 with linespoints lw 2 pt 11 lc rgb "#2e7d32" title "dbmate", \
     datafile using 1:7 with linespoints lw 2 pt 13 lc rgb "#1565c0" title "sqitch"
