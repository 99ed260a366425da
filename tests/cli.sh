#!/bin/sh
# Command-line tests: exit codes, exact error messages, outputs.  Run by
# `make test` with ATTNROOF set to the binary.  Prints "N passed, N failed".
A=${ATTNROOF:-./attnroof}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect CODE "STDERR-LINE-OR-EMPTY" args...: run, compare exit code and stderr's first line
expect() {
	code=$1; msg=$2; shift 2
	"$A" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	got=$(head -n 1 "$tmp/err")
	if [ "$rc" != "$code" ] || { [ -n "$msg" ] && [ "$got" != "$msg" ]; }; then
		echo "FAIL: attnroof $*"
		echo "  exit $rc (want $code); stderr: $got"
		[ -n "$msg" ] && echo "  want stderr: $msg"
		fail=$((fail+1))
	else
		pass=$((pass+1))
	fi
}

# contains PATTERN FILE: the file has a line matching the fixed string
contains() {
	if grep -qF -- "$1" "$2"; then pass=$((pass+1)); else echo "FAIL: '$1' not in $2"; fail=$((fail+1)); fi
}

expect 0 "" analyze --model gta-1b --hw h100-sxm --batch 8 --seq 2048 --format json
contains '"kv_elems_per_token_layer": 192' "$tmp/out"
contains '"kind": "attention"' "$tmp/out"
expect 0 "" analyze --model gqa-1b --hw h100-sxm --format json
contains '"kv_elems_per_token_layer": 640' "$tmp/out"
expect 2 "attnroof: error: unknown command 'analyse'" analyse
expect 2 "attnroof: error: analyze needs --model" analyze --hw h100-sxm
expect 2 "attnroof: error: --batch: 'abc' is not a whole number" analyze --model gta-1b --hw h100-sxm --batch abc
expect 1 "attnroof: error: --batch must be between 1 and 1048576, not 0" analyze --model gta-1b --hw h100-sxm --batch 0
expect 1 "attnroof: error: unknown model 'nope' (no configs/nope.yaml)" analyze --model nope --hw h100-sxm
expect 1 "attnroof: error: --set bandwidth=-5: value must be > 0" analyze --model gta-1b --hw h100-sxm --set bandwidth=-5

# the complexity table: values from the op graph at GTA-1B's dimensions
expect 0 "" table --model gta-1b --format json
for v in '"arch": "mha"' '"arch": "gqa"' '"arch": "gta"' '"arch": "mla"' '"arch": "gva"' '"arch": "gha"' \
	'"kv_elems_per_token_layer": 2560, "attn_macs_per_n2": 2560, "linear_macs_per_n": 6553600' \
	'"kv_elems_per_token_layer": 640, "attn_macs_per_n2": 2560, "linear_macs_per_n": 4096000' \
	'"kv_elems_per_token_layer": 192, "attn_macs_per_n2": 960, "linear_macs_per_n": 4096000'; do
	contains "$v" "$tmp/out"
done
expect 0 "" table --format latex
contains '\toprule' "$tmp/out"
expect 2 "attnroof: error: --format must be md, csv, json or latex, not 'xml'" table --format xml

# plots: error cases, then a quick text plot
expect 2 "attnroof: error: plot needs a kind: roofline, latency, speedup, kv or measured" plot
expect 2 "attnroof: error: unknown plot 'pie' (roofline, latency, speedup, kv, measured)" plot pie
expect 2 "attnroof: error: plot measured needs --input FILE" plot measured
expect 2 "attnroof: error: plot speedup needs exactly two --model (the baseline first)" \
	plot speedup --model gta-1b --hw h100-sxm --batch 1 --seq 128
expect 1 "attnroof: error: plot latency needs --batch LIST and --seq LIST" \
	plot latency --model gta-1b --hw h100-sxm
expect 1 "attnroof: error: a png image needs an output file" plot kv --model gta-1b --hw h100-sxm --term png
expect 1 "$tmp/nope.json: error: cannot open '$tmp/nope.json': No such file or directory" \
	plot measured --input "$tmp/nope.json"
printf '{"points": []}\n' >"$tmp/empty.json"
expect 1 "$tmp/empty.json:1:12: error: 'points' is empty" plot measured --input "$tmp/empty.json"
mkdir "$tmp/nobin"
PATH="$tmp/nobin" "$A" plot kv --model gta-1b --hw h100-sxm --output "$tmp/kv.png" 2>"$tmp/err"
rc=$?
if [ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "attnroof: error: gnuplot not found (apt-get install gnuplot-nox)" ]; then
	pass=$((pass+1)); else echo "FAIL: plot without gnuplot: exit $rc, $(cat "$tmp/err")"; fail=$((fail+1)); fi
if [ -e "$tmp/kv.png" ] || ls "$tmp"/kv.png.tmp.* >/dev/null 2>&1; then
	echo "FAIL: plot output left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi
if command -v gnuplot >/dev/null 2>&1; then
	expect 0 "" plot measured --input tests/data/validate_small.json --output "$tmp/m.png"
	if [ -s "$tmp/m.png" ]; then pass=$((pass+1)); else echo "FAIL: no $tmp/m.png"; fail=$((fail+1)); fi
	expect 0 "" plot kv --model gqa-1b --model gta-1b --hw h100-sxm
	contains 'context length (tokens)' "$tmp/out"
else
	echo "cli: gnuplot missing, plot rendering not tested (apt-get install gnuplot-nox)"
fi

# no half-written output on error
expect 1 "" analyze --model gta-1b --hw h100-sxm --batch 0 --output "$tmp/x.json"
if [ -e "$tmp/x.json" ] || ls "$tmp"/x.json.tmp.* >/dev/null 2>&1; then
	echo "FAIL: output left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
