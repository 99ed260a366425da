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
	$A "$@" >"$tmp/out" 2>"$tmp/err"
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
for v in '"arch": "gta-tied"' '"arch": "gla"' \
	'"kv_elems_per_token_layer": 352, "attn_macs_per_n2": 2560, "linear_macs_per_n": 3727360' \
	'"kv_elems_per_token_layer": 288, "attn_macs_per_n2": 3200, "linear_macs_per_n": 4792320'; do
	contains "$v" "$tmp/out"
done
expect 0 "" table --model gla-1b
contains '| GLA | (n_c d_c + d_rope) N = 288 N |' "$tmp/out"
expect 0 "" table --format latex
contains '\toprule' "$tmp/out"
expect 2 "attnroof: error: --format must be md, csv, json or latex, not 'xml'" table --format xml

# arXiv 2505.21487's variants: caches per token, per device under --tp (the
# paper's XL model: GTA-4 1152 / 640 / 384 B, GLA-2 1152 / 640 / 640 B)
expect 0 "" analyze --model gta-tied-1b --hw h100-sxm --batch 8 --seq 2048 --format json
contains '"kv_elems_per_token_layer": 352, "kv_bytes_per_token": 38016,' "$tmp/out"
expect 0 "" analyze --model gla-1b --hw h100-sxm --batch 8 --seq 2048 --attn naive --format json
contains '"kv_elems_per_token_layer": 288, "kv_bytes_per_token": 31104,' "$tmp/out"
for c in "xl-gta4-tied 1 1152" "xl-gta4-tied 2 640" "xl-gta4-tied 4 384" \
	"xl-gla2 1 1152" "xl-gla2 2 640" "xl-gla2 4 640"; do
	set -- $c
	expect 0 "" analyze --model tests/data/good/$1.yaml --hw h100-sxm --batch 1 --seq 1 --tp $2 --format json
	contains "\"kv_cache_bytes\": $3," "$tmp/out"
done
expect 0 "" sweep --model gta-tied-1b --model gla-1b --hw h100-sxm --batch 1,8 --seq 1024,4096
# a row by hand: 352 KV elements per token per layer x 54 layers x 2 bytes = 38016
contains 'gta-tied-1b,gta-tied,h100-sxm,1,1024,0,flash,16,16,16,1,1108762880,352,38016,' "$tmp/out"
if [ "$(grep -c '^gla-1b,gla,h100-sxm,' "$tmp/out")" = 4 ] && [ "$(wc -l <"$tmp/out")" = 9 ]; then
	pass=$((pass+1)); else echo "FAIL: sweep rows"; fail=$((fail+1)); fi
# its prefill time is analyze's for the same point
expect 0 "" analyze --model gta-tied-1b --hw h100-sxm --batch 1 --seq 1024 --format csv
pf=$(awk -F, '$4 == "prefill" { s += $22 } END { printf "%.12g", s }' "$tmp/out")
$A sweep --model gta-tied-1b --hw h100-sxm --batch 1 --seq 1024 >"$tmp/sw" 2>&1
sw=$(awk -F, 'NR == 2 { printf "%.12g", $17 }' "$tmp/sw")
if [ -n "$pf" ] && [ "$pf" = "$sw" ]; then pass=$((pass+1)); else
	echo "FAIL: sweep's prefill_s $sw, analyze's ops sum to $pf"; fail=$((fail+1)); fi
# the other formats: a row each, by hand (the embedding gathers B·S rows of
# H = 1280 at 2 bytes: 8·2048·1280·2 = 41943040)
expect 0 "" analyze --model gta-1b --hw h100-sxm --batch 8 --seq 2048 --format csv
contains 'gta-1b,gta,h100-sxm,prefill,8,2048,embed,embedding,1,0,41943040,0,41943040,0,0,0,0,83886080,' "$tmp/out"
expect 0 "" table --format csv
contains 'gta-1b,gta,"GTA","Strong",192,960,4096000,' "$tmp/out"
expect 0 "" size --model gla-1b --hw rtx3060 --context 32768 --format json
contains '"kv_bytes_per_token": 31104' "$tmp/out"
expect 1 "attnroof: error: the executor runs MHA, GQA, MLA, GVA, GHA and GTA; 'gta-tied' is analysis only" \
	run --model configs/gta-tied-1b.yaml --batch 1 --seq 16
expect 1 "attnroof: error: the executor runs MHA, GQA, MLA, GVA, GHA and GTA; 'gla' is analysis only" \
	run --model gla-1b --batch 1 --seq 16

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
PATH="$tmp/nobin" $A plot kv --model gta-1b --hw h100-sxm --output "$tmp/kv.png" 2>"$tmp/err"
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

# size: the largest batch at a context follows from weights + KV + activations
expect 0 "" size --model gta-1b --hw rtx3060 --context 32768 --format json
contains '"max_batch": 6,' "$tmp/out"
contains '"kv_bytes_per_token": 20736' "$tmp/out"
expect 0 "" size --model gqa-1b --hw rtx3060 --context 32768 --format json
contains '"max_batch": 3,' "$tmp/out"
contains '"max_context": 104552,' "$tmp/out"
expect 0 "" size --model gta-1b --model gqa-1b --hw rtx3060 --hw h100-sxm --context 32768 \
	--tpot 0.02 --throughput 1000 --offload --format json
contains '"results": [' "$tmp/out"
contains '"ranking": [' "$tmp/out"
expect 0 "" size --model gta-1b --hw rtx3060 --context 32768 --set bandwidth=2x --reserve 0.1 --format csv
contains 'model,arch,hardware,context,batch,gen,capacity_bytes,usable_bytes,' "$tmp/out"
contains 'gta-1b,gta,rtx3060,32768,1,0,12000000000,10800000000,' "$tmp/out"
expect 0 "" size --model gta-1b --hw rtx3060 --context 32768 --offload
contains 'from context 217466, batch 1 offloaded' "$tmp/out"
expect 2 "attnroof: error: size needs --model and --hw" size --hw rtx3060
expect 2 "attnroof: error: --context: 'x' is not a whole number" size --model gta-1b --hw rtx3060 --context x
expect 1 "attnroof: error: --context must be between 1 and 16777216, not 0" size --model gta-1b --hw rtx3060 --context 0
expect 2 "attnroof: error: --ttft: 'abc' is not a number" size --model gta-1b --hw rtx3060 --ttft abc
expect 1 "attnroof: error: --tpot must be > 0, not -1" size --model gta-1b --hw rtx3060 --tpot -1
expect 1 "attnroof: error: --throughput must be > 0, not 0" size --model gta-1b --hw rtx3060 --throughput 0
expect 2 "attnroof: error: --reserve: 'lots' is not a number" size --model gta-1b --hw rtx3060 --reserve lots
expect 1 "attnroof: error: --reserve must be a share below 1 (0.1) or bytes (2e9), not -0.5" \
	size --model gta-1b --hw rtx3060 --reserve -0.5
expect 2 "attnroof: error: size takes one --batch and one --context" size --model gta-1b --hw rtx3060 --batch 1,2
expect 2 "attnroof: error: --ttft needs a value" size --model gta-1b --hw rtx3060 --ttft
if command -v gnuplot >/dev/null 2>&1; then
	mkdir "$tmp/sizeplots"
	expect 0 "" size --model gta-1b --model gqa-1b --hw rtx3060 --context 32768 --plot "$tmp/sizeplots"
	if [ -s "$tmp/sizeplots/size-latency.png" ] && [ -s "$tmp/sizeplots/size-context.png" ]; then
		pass=$((pass+1)); else echo "FAIL: size --plot drew nothing"; fail=$((fail+1)); fi
fi

# hostile input: bad flag values, files that are not descriptors, bad descriptors
M="--model gta-1b --hw h100-sxm"
expect 1 "attnroof: error: --seq must be between 1 and 16777216, not -1" analyze $M --seq -1
expect 1 "attnroof: error: --gen: 1e20 is too large" analyze $M --gen 1e20
expect 2 "attnroof: error: --batch: '1.5' is not a whole number" analyze $M --batch 1.5
expect 2 "attnroof: error: --batch: '0x10' is not a whole number" analyze $M --batch 0x10
expect 2 "attnroof: error: --seq: 'nan' is not a whole number" analyze $M --seq nan
expect 1 "attnroof: error: --batch: 99999999999999999999 is too large" analyze $M --batch 99999999999999999999
expect 1 "attnroof: error: --wbits must be 4, 8, 16 or 32, not 3" analyze $M --wbits 3
expect 1 "attnroof: error: --kvbits must be 4, 8, 16 or 32, not 100" analyze $M --kvbits 100
expect 1 "attnroof: error: --tp must be between 1 and 4096, not 0" analyze $M --tp 0
expect 2 "attnroof: error: --batch needs a value" analyze $M --batch
expect 2 "attnroof: error: --attn must be flash or naive, not 'fast'" analyze $M --attn fast
expect 1 "attnroof: error: --set onchip=4.4e22: the result is too large (the limit is 1e+15)" \
	analyze $M --set onchip=4.4e22
expect 1 "attnroof: error: --set bandwidth=abc: 'abc' is not a number" analyze $M --set bandwidth=abc
expect 1 "attnroof: error: --set 'bandwidth': expected KEY=VALUE" analyze $M --set bandwidth
expect 1 "attnroof: error: unknown device 'nope' (no hw/nope.yaml)" analyze --model gta-1b --hw nope
expect 1 "attnroof: error: invalid device name 'a b'" analyze --model gta-1b --hw 'a b'
expect 1 "tests/data: error: 'tests/data' is a directory, not a file" analyze --model gta-1b --hw tests/data
expect 1 "tests/data: error: 'tests/data' is a directory, not a file" analyze --model tests/data --hw h100-sxm
mkdir "$tmp/dir.json"
expect 1 "$tmp/dir.json: error: '$tmp/dir.json' is a directory, not a file" \
	analyze --model "$tmp/dir.json" --hw h100-sxm
expect 1 "$tmp/none.yaml: error: cannot open '$tmp/none.yaml': No such file or directory" \
	analyze --model gta-1b --hw "$tmp/none.yaml"
# a FIFO would block a reader for ever; it is refused before it is opened
if mkfifo "$tmp/fifo.yaml" 2>/dev/null; then
	expect 1 "$tmp/fifo.yaml: error: '$tmp/fifo.yaml' is not a regular file" \
		analyze --model gta-1b --hw "$tmp/fifo.yaml"
else
	echo "cli: no mkfifo here: the FIFO check not run"
fi
# unreadable: chmod 000 does not stop root, but /proc/self/mem fails to read for anyone
if [ "$(id -u)" != 0 ]; then
	cp hw/h100-sxm.yaml "$tmp/locked.yaml"; chmod 000 "$tmp/locked.yaml"
	expect 1 "$tmp/locked.yaml: error: cannot open '$tmp/locked.yaml': Permission denied" \
		analyze --model gta-1b --hw "$tmp/locked.yaml"
else
	echo "cli: running as root: the chmod 000 check not run (/proc/self/mem stands in)"
fi
if [ -e /proc/self/mem ]; then
	expect 1 "/proc/self/mem: error: cannot read '/proc/self/mem': Input/output error" \
		analyze --model gta-1b --hw /proc/self/mem
else
	echo "cli: no /proc/self/mem, the unreadable-file case is not tested"
fi
expect 1 "tests/data/bad/hw-unknown-key.yaml:8:1: error: unknown key 'bandwdth' (did you mean 'bw_bytes_per_s' in a 'memory' level?)" \
	analyze --model gta-1b --hw tests/data/bad/hw-unknown-key.yaml
expect 1 "tests/data/bad/hw-binary.yaml:1:1: error: not a text file: control characters are not allowed (byte 0x7F)" \
	analyze --model gta-1b --hw tests/data/bad/hw-binary.yaml
expect 1 "tests/data/bad/model-tab.yaml:10:1: error: YAML syntax error: tab character (YAML indents with spaces only)" \
	analyze --model tests/data/bad/model-tab.yaml --hw h100-sxm
expect 1 "tests/data/bad/hf-truncated.json:5:15: error: JSON syntax error: unexpected end of text" \
	analyze --model tests/data/bad/hf-truncated.json --hw h100-sxm
expect 1 "tests/data/bad/hf-vocab-2p64.json:7:17: error: 'vocab_size' is too large (18446744073709551617; the limit is 16777216)" \
	sweep --model tests/data/bad/hf-vocab-2p64.json --hw h100-sxm --batch 1 --seq 128
expect 1 "" analyze --model tests/data/bad/hf-truncated.json --hw h100-sxm --output "$tmp/bad.json"
if [ -e "$tmp/bad.json" ] || ls "$tmp"/bad.json.tmp.* >/dev/null 2>&1; then
	echo "FAIL: output left behind after a bad model"; fail=$((fail+1)); else pass=$((pass+1)); fi
expect 1 "" run --model llama-3.1-8b --batch 64 --seq 100000
contains "attnroof: error: run needs " "$tmp/err"
expect 1 "" analyze $M --output "$tmp"
contains "attnroof: error: cannot write '$tmp': " "$tmp/err"
if ls "$tmp"/../"$(basename "$tmp")".tmp.* >/dev/null 2>&1; then
	echo "FAIL: temporary output left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi

# no half-written output on error
expect 1 "" analyze --model gta-1b --hw h100-sxm --batch 0 --output "$tmp/x.json"
if [ -e "$tmp/x.json" ] || ls "$tmp"/x.json.tmp.* >/dev/null 2>&1; then
	echo "FAIL: output left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi

# a config.json after a byte-order mark reads as without one
expect 0 "" analyze --hw h100-sxm --model tests/data/good/hf-llama-3.2-1b-bom.json --format json
contains '"params": 1235814400' "$tmp/out"

# flags: unknown before missing value, one value each, lists without gaps,
# flags a command does not take
expect 2 "attnroof: error: unknown option '--bogus'" run --model gta-1b --bogus
expect 2 "attnroof: error: unknown option '--bogus'" table --bogus
expect 2 "attnroof: error: unknown option '--bogus'" calibrate --bogus
expect 2 "attnroof: error: --batch given twice" analyze --model gta-1b --hw h100-sxm --batch 1 --batch 2
expect 2 "attnroof: error: --output given twice" analyze --model gta-1b --hw h100-sxm --output a --output b
expect 2 "attnroof: error: --format given twice" table --format md --format csv
expect 2 "attnroof: error: --batch: an empty item in the list" sweep --model gta-1b --hw h100-sxm --batch 1,,2 --seq 1
expect 2 "attnroof: error: --seq: an empty item in the list" sweep --model gta-1b --hw h100-sxm --batch 1 --seq 1,
expect 2 "attnroof: error: --input is for plot measured, not plot roofline" plot roofline --model gta-1b --hw h100-sxm --input x
expect 2 "attnroof: error: plot roofline takes one --batch and one --seq" plot roofline --model gta-1b --hw h100-sxm --batch 1,2
expect 2 "attnroof: error: --format is not an option of plot" plot kv --model gta-1b --hw h100-sxm --format json
expect 2 "attnroof: error: --model is not an option of plot measured" plot measured --input x.json --model gta-1b
expect 2 "attnroof: error: --wbits is not an option of run" run --model gta1-160m --wbits 16
expect 2 "attnroof: error: --batch is not an option of validate" validate --quick --batch 2
expect 2 "attnroof: error: --set is not an option of validate without --hw" validate --quick --set peak=2x
# --threads: at most this machine's processors (nproc counts them as OpenMP
# does, by affinity, once the OpenMP variables it also reads are unset)
np=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
[ "$np" -gt 4096 ] && np=4096
expect 1 "attnroof: error: --threads must be between 1 and $np (the processors of this machine), not -1" calibrate --threads -1
expect 1 "attnroof: error: --threads must be between 1 and $np (the processors of this machine), not $((np + 1))" calibrate --threads $((np + 1))
expect 1 "attnroof: error: --threads must be between 1 and $np (the processors of this machine), not 1000" validate --quick --threads 1e3
# a model named that does not exist fails before the calibration (its first
# line), and so does a descriptor of another kind of device than a CPU
expect 1 "attnroof: error: validate measures this machine's CPU, and 'h100-sxm' is a gpu descriptor (give a CPU one with --hw, or none to calibrate this machine)" validate --quick --hw h100-sxm
expect 1 "attnroof: error: validate measures this machine's CPU, and 'm2-gpu' is a soc descriptor (give a CPU one with --hw, or none to calibrate this machine)" validate --quick --hw m2-gpu
expect 1 "attnroof: error: unknown model 'nosuch' (no configs/nosuch.yaml)" validate --quick --model nosuch

# values that would give no finite answer, and --set keeping the levels in order
expect 1 "attnroof: error: --set bandwidth=1e-300: the result is too small (the least is 1000)" analyze --model gta-1b --hw h100-sxm --set bandwidth=1e-300
expect 1 "attnroof: error: --set L2.capacity=1e15: 'L2' would not be smaller than 'HBM3' (8e+10 bytes)" analyze --model gta-1b --hw h100-sxm --set L2.capacity=1e15
expect 1 "attnroof: error: --set exp=2x: cannot scale a field the device does not declare" analyze --model gta-1b --hw h100-sxm --set exp=2x
expect 1 "attnroof: error: --reserve 1e+300 bytes leaves nothing of h100-sxm's 8e+10 bytes of memory" size --model gta-1b --hw h100-sxm --reserve 1e300

# write failures are named; a failing command keeps an existing file and its mode
if [ -w /dev/full ]; then
	full="attnroof: error: cannot write to standard output: No space left on device"
	$A table >/dev/full 2>"$tmp/err"; rc=$?
	if [ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "$full" ]; then pass=$((pass+1)); else
		echo "FAIL: table >/dev/full: exit $rc, $(cat "$tmp/err")"; fail=$((fail+1)); fi
	$A plot kv --model gta-1b --hw h100-sxm >/dev/full 2>"$tmp/err"; rc=$?
	if [ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "$full" ]; then pass=$((pass+1)); else
		echo "FAIL: plot kv >/dev/full: exit $rc, $(cat "$tmp/err")"; fail=$((fail+1)); fi
	expect 1 "attnroof: error: cannot write '/dev/full': No space left on device" \
		plot kv --model gta-1b --hw h100-sxm --output /dev/full
else
	echo "cli: no writable /dev/full: the write-failure checks not run"
fi
printf 'kept\n' >"$tmp/keep.txt"; chmod 640 "$tmp/keep.txt"
expect 1 "" analyze --model gta-1b --hw h100-sxm --batch 0 --output "$tmp/keep.txt"
contains "kept" "$tmp/keep.txt"
expect 0 "" analyze --model gta-1b --hw h100-sxm --output "$tmp/keep.txt"
if [ "$(stat -c %a "$tmp/keep.txt")" = 640 ]; then pass=$((pass+1)); else
	echo "FAIL: --output changed the file's mode to $(stat -c %a "$tmp/keep.txt")"; fail=$((fail+1)); fi
ln -s keep.txt "$tmp/link.txt"
expect 0 "" table --output "$tmp/link.txt"
if [ -L "$tmp/link.txt" ] && grep -qF "Complexity" "$tmp/keep.txt"; then pass=$((pass+1)); else
	echo "FAIL: --output through a symbolic link"; fail=$((fail+1)); fi
# /dev/stdout is stdout (appended to, not replaced); a device is written, not replaced
printf 'previous\n' >"$tmp/log"
$A table --output /dev/stdout >>"$tmp/log"
contains "previous" "$tmp/log"
contains "Complexity" "$tmp/log"
expect 0 "" table --output /dev/null
if [ -c /dev/null ]; then pass=$((pass+1)); else echo "FAIL: /dev/null replaced"; fail=$((fail+1)); fi
if command -v gnuplot >/dev/null 2>&1; then
	expect 0 "" plot kv --model gta-1b --hw h100-sxm --output /dev/null
	if [ -c /dev/null ]; then pass=$((pass+1)); else echo "FAIL: /dev/null replaced by plot"; fail=$((fail+1)); fi
	printf 'x' >"$tmp/kept.png"; chmod 604 "$tmp/kept.png"
	expect 0 "" plot kv --model gta-1b --hw h100-sxm --output "$tmp/kept.png"
	if [ "$(stat -c %a "$tmp/kept.png")" = 604 ] && [ "$(head -c 4 "$tmp/kept.png" | tail -c 3)" = PNG ]; then
		pass=$((pass+1)); else echo "FAIL: plot --output over an existing image"; fail=$((fail+1)); fi
fi
long=$(printf 'd%.0s' $(seq 1 300))
long="$tmp/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/x"
$A table --output "$long" >/dev/null 2>"$tmp/err"; rc=$?
if [ "$rc" = 1 ] && grep -qF "File name too long" "$tmp/err"; then pass=$((pass+1)); else
	echo "FAIL: a 4 KB --output path: exit $rc"; fail=$((fail+1)); fi
expect 2 "attnroof: error: --reserve given twice" size --model gta-1b --hw h100-sxm --reserve 0.1 --reserve 2e9
expect 2 "attnroof: error: --input given twice" plot measured --input a --input b
expect 2 "attnroof: error: --quick given twice" validate --quick --quick
mkdir "$tmp/pl" "$tmp/pl/size-context.png"
expect 1 "attnroof: error: cannot write '$tmp/pl/size-context.png': Is a directory" size --model gta-1b --hw h100-sxm --plot "$tmp/pl"
if [ -e "$tmp/pl/size-latency.png" ]; then echo "FAIL: size --plot wrote one image of two"; fail=$((fail+1)); else pass=$((pass+1)); fi
expect 1 "attnroof: error: cannot write '$tmp/nodir/x.txt': No such file or directory" size --model gta-1b --hw h100-sxm --plot "$tmp/pl2" --output "$tmp/nodir/x.txt"
if [ -e "$tmp/pl2" ]; then echo "FAIL: size --plot drew for a report it could not write"; fail=$((fail+1)); else pass=$((pass+1)); fi
expect 0 "" size --model gta-1b --hw h100-sxm --plot "$tmp/pl3"
if [ -s "$tmp/pl3/size-latency.png" ] && [ -s "$tmp/pl3/size-context.png" ]; then pass=$((pass+1)); else
	echo "FAIL: size --plot into a folder it made"; fail=$((fail+1)); fi

# the executor on a tiny model: a run, and a validation whose JSON carries the
# tracked and the static predictions (no timing is asserted)
H=tests/data/good/hw-host.yaml
expect 0 "" run --model tests/data/good/tiny-gqa.yaml --hw $H --batch 2 --seq 16 --gen 4 --format json
contains '"model": "tiny-gqa"' "$tmp/out"
# by hand, fp32: 2 layers x (q 64x64 + k, v 64x32 + o 64x64 + MLP 3x64x128 + two
# norms of 64) + the tied embedding 100x64 + the final norm = 80 448 weights;
# KV: 2 sequences x (16 + 4) positions x 2 layers x (2 heads x 16 x K and V)
contains '"batch": 2, "seq": 16, "gen": 4,' "$tmp/out"
contains '"weights_bytes": 321792, "kv_cache_bytes": 20480,' "$tmp/out"
# (not under valgrind: validate's probes read four times the last-level
# cache around every pass, hours at valgrind's speed)
if [ -z "$CLI_UNDER_VALGRIND" ]; then
	expect 0 "" validate --quick --model tests/data/good/tiny-gta.yaml --hw $H --format json --output "$tmp/v.json"
	for v in '"static": {' '"predicted_static_s": ' '"drift": {"matrix": ' '"round_trip_ns": ' '"tracked_against": "start"' '"descriptor": [0, 0, 0]' '"descriptors": [{"dram_bw_bytes_per_s": ' '"phase": "decode", "batch": 2, "seq": 1024'; do
		contains "$v" "$tmp/v.json"
	done
else
	cp tests/data/validate_small.json "$tmp/v.json"
	echo "cli: validate's own run skipped under valgrind (its plot reads tests/data/validate_small.json)"
fi
expect 1 "attnroof: error: --threads must be between 1 and $np (the processors of this machine), not 0" validate --quick --threads 0
expect 2 "attnroof: error: --threads needs a value" validate --quick --threads
expect 0 "" plot measured --input "$tmp/v.json" --term dumb
contains "measured" "$tmp/out"

# golden analyses: the JSON of four fixed analyses, byte for byte.  After a
# deliberate change to the cost model, check the diff and regenerate with
#   for m in gta-1b gqa-1b; do for h in lv-h100 h100-sxm; do ./attnroof analyze --model $m \
#     --hw $h --batch 8 --seq 2048 --gen 128 --format json >tests/golden/analyze-$m-$h.json; done; done
# Three of their numbers by hand: gta-1b's 1 128 766 208 parameters (as in
# test_size), its KV cache of 8 sequences x (2048 + 128) positions x 20 736
# bytes = 360 972 288, and the embedding's gather of 8·2048 rows of 1280 at
# 2 bytes = 41 943 040.
for v in '"params": 1128766208' '"kv_cache_bytes": 360972288' '"weight": 41943040'; do
	contains "$v" tests/golden/analyze-gta-1b-h100-sxm.json
done
for m in gta-1b gqa-1b; do
	for h in lv-h100 h100-sxm; do
		expect 0 "" analyze --model $m --hw $h --batch 8 --seq 2048 --gen 128 --format json
		if diff -u "tests/golden/analyze-$m-$h.json" "$tmp/out" >"$tmp/golden.diff"; then
			pass=$((pass+1))
		else
			echo "FAIL: analyze $m on $h differs from tests/golden/analyze-$m-$h.json"
			head -n 20 "$tmp/golden.diff"; fail=$((fail+1))
		fi
	done
done

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
