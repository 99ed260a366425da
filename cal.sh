#!/bin/sh
# Reproduce the GTA paper's LLM-Viewer study without prompts: GQA-1B against
# GTA-1B for batch 1..32 and sequence length 128..4096 at 16 bits, on the H100
# as LLM-Viewer models it (lv-h100) and as its datasheet gives it (h100-sxm),
# with naive (materialised scores, as the paper) and flash attention.  Writes
# CSV tables and plots into the output folder and prints where they are.
set -eu

usage() {
	cat <<'USAGE'
usage: ./cal.sh [options]

  --models "M1 M2"     models to compare, baseline first (default "gqa-1b gta-1b");
                       names in configs/, YAML or config.json paths
  --hw "H1 H2 ..."     devices (default "lv-h100 h100-sxm": LLM-Viewer's H100
                       constants and the datasheet descriptor)
  --attn "A ..."       attention implementations: naive, flash (default both)
  --batch LIST         comma-separated batch sizes (default 1,2,4,8,16,32)
  --seq LIST           comma-separated sequence lengths (default 128,256,512,1024,2048,4096)
  --bits N             weight, activation and KV bit width (default 16)
  --format png|svg     image format (default png)
  --out DIR            output folder (default out/cal)
  -h, --help           this text

For every device and attention implementation it writes
  sweep_<hw>_<attn>.csv      one row per model, batch and length (attnroof sweep)
  roofline_<hw>_<attn>.*     ops of both models at the first batch and last length
  latency_<hw>_<attn>.*      prefill and decode time against length and batch
  speedup_<hw>_<attn>.*      speed-up of the second model over the first
and per device kv_<hw>.*, plus table.csv and table.md (the complexity table at
the second model's dimensions).  ATTNROOF selects the binary (default ./attnroof,
built with make when missing).
USAGE
}

models="gqa-1b gta-1b"
hws="lv-h100 h100-sxm"
attns="naive flash"
batch="1,2,4,8,16,32"
seq="128,256,512,1024,2048,4096"
bits=16
fmt=png
out=out/cal

while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--models|--hw|--attn|--batch|--seq|--bits|--format|--out)
		[ $# -ge 2 ] || { echo "cal.sh: error: $1 needs a value" >&2; exit 2; }
		case $1 in
		--models) models=$2 ;; --hw) hws=$2 ;; --attn) attns=$2 ;;
		--batch) batch=$2 ;; --seq) seq=$2 ;; --bits) bits=$2 ;;
		--format) fmt=$2 ;; --out) out=$2 ;;
		esac
		shift 2 ;;
	*) echo "cal.sh: error: unknown option '$1' (see ./cal.sh --help)" >&2; exit 2 ;;
	esac
done
case $fmt in png|svg) ;; *) echo "cal.sh: error: --format must be png or svg" >&2; exit 2 ;; esac
set -- $models
[ $# -eq 2 ] || { echo "cal.sh: error: --models needs exactly two models" >&2; exit 2; }
base=$1
new=$2

case $out in /*) ;; *) out=$PWD/$out ;; esac
A=${ATTNROOF:-}
case $A in ''|/*) ;; *) A=$PWD/$A ;; esac
cd "$(dirname "$0")"
A=${A:-./attnroof}
if [ ! -x "$A" ]; then
	make >/dev/null
	A=./attnroof
fi
mkdir -p "$out"

first_batch=${batch%%,*}
last_seq=${seq##*,}
bitflags="--wbits $bits --abits $bits --kvbits $bits"
for hw in $hws; do
	for attn in $attns; do
		tag=${hw}_$attn
		# shellcheck disable=SC2086
		"$A" sweep --model "$base" --model "$new" --hw "$hw" --batch "$batch" --seq "$seq" \
			--attn "$attn" $bitflags --format csv --output "$out/sweep_$tag.csv"
		# shellcheck disable=SC2086
		"$A" plot roofline --model "$base" --model "$new" --hw "$hw" --attn "$attn" $bitflags \
			--batch "$first_batch" --seq "$last_seq" --output "$out/roofline_$tag.$fmt"
		# shellcheck disable=SC2086
		"$A" plot latency --model "$base" --model "$new" --hw "$hw" --attn "$attn" $bitflags \
			--batch "$batch" --seq "$seq" --output "$out/latency_$tag.$fmt"
		# shellcheck disable=SC2086
		"$A" plot speedup --model "$base" --model "$new" --hw "$hw" --attn "$attn" $bitflags \
			--batch "$batch" --seq "$seq" --output "$out/speedup_$tag.$fmt"
	done
	# shellcheck disable=SC2086
	"$A" plot kv --model "$base" --model "$new" --hw "$hw" $bitflags \
		--batch "${batch##*,}" --output "$out/kv_$hw.$fmt"
done
"$A" table --model "$new" --format csv --output "$out/table.csv"
"$A" table --model "$new" --format md --output "$out/table.md"

echo "cal.sh: wrote CSV tables and plots to $out/:"
ls "$out" | sed 's/^/  /'
