#!/bin/sh
# Run each libFuzzer harness for a bounded time: run.sh BUILD SECONDS NAME...
# Seeds come from the descriptors in the tree and tests/data; the growing
# corpus and any crash inputs stay under BUILD.  Prints one line per harness
# and a total; exits 1 if any harness crashed.
build=$1; secs=$2; shift 2
total=0; crashes=0
for name in "$@"; do
	corpus=$build/corpus/$name; art=$build/crashes/$name
	mkdir -p "$corpus" "$art"
	case $name in
	fuzz_yaml_hw) seeds="hw tests/data/bad" ;;
	fuzz_yaml_model) seeds="configs archs tests/data/bad" ;;
	fuzz_json_hf) seeds="fuzz/seeds/hf tests/data/bad" ;;
	*) seeds="fuzz/seeds/set" ;;
	esac
	dirs=""
	for d in $seeds; do [ -d "$d" ] && dirs="$dirs $d"; done
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	"$build/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/" -print_final_stats=1 $dict "$corpus" $dirs \
		>"$build/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$name.log" | tail -n 1)
	found=$(ls "$art" | wc -l)
	[ "$rc" != 0 ] && [ "$found" = 0 ] && found=1
	echo "$name: ${runs:-0} executions in $secs s, $found crashes (log: $build/$name.log)"
	total=$((total + ${runs:-0})); crashes=$((crashes + found))
done
echo "fuzz: $total executions, $crashes crashes"
[ "$crashes" = 0 ]
