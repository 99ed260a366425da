#!/bin/sh
# `make demo`: GTA-1B against GQA-1B on the H100 SXM (datasheet descriptor),
# 16-bit, flash attention, at a few batch sizes and sequence lengths.
set -eu
A=./attnroof
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
$A sweep --model gqa-1b --model gta-1b --hw h100-sxm --batch 1,8,32 --seq 512,2048,8192 \
	--gen 128 --output "$tmp"
echo "GTA-1B vs GQA-1B on NVIDIA H100 SXM5 (16-bit, flash attention, 128 generated tokens)"
echo
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
	key = $col["batch"] "," $col["seq"]
	if ($col["model"] == "gqa-1b") { gp[key] = $col["prefill_s"]; gd[key] = $col["tpot_s"]; gk = $col["kv_bytes_per_token"] }
	else { tp[key] = $col["prefill_s"]; td[key] = $col["tpot_s"]; tk = $col["kv_bytes_per_token"]; order[++n] = key }
}
END {
	printf "KV cache per token: GQA-1B %.1f kB, GTA-1B %.1f kB (%.0f%% smaller)\n\n", gk / 1e3, tk / 1e3, 100 * (1 - tk / gk)
	printf "%6s %6s | %12s %12s %8s | %12s %12s %8s\n", "batch", "seq", "GQA prefill", "GTA prefill", "speedup", "GQA TPOT", "GTA TPOT", "speedup"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, bs, ",")
		printf "%6d %6d | %9.3f ms %9.3f ms %7.2fx | %9.3f ms %9.3f ms %7.2fx\n", bs[1], bs[2],
			gp[k] * 1e3, tp[k] * 1e3, gp[k] / tp[k], gd[k] * 1e3, td[k] * 1e3, gd[k] / td[k]
	}
}' "$tmp"
echo
echo "Per-op detail: ./attnroof analyze --model gta-1b --hw h100-sxm --batch 8 --seq 2048 --gen 128"
