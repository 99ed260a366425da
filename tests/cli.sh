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

# no half-written output on error
expect 1 "" analyze --model gta-1b --hw h100-sxm --batch 0 --output "$tmp/x.json"
if [ -e "$tmp/x.json" ] || ls "$tmp"/x.json.tmp.* >/dev/null 2>&1; then
	echo "FAIL: output left behind"; fail=$((fail+1)); else pass=$((pass+1)); fi

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
