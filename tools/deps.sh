#!/bin/sh
# Install the Debian packages attnroof needs.  "check": install what is missing
# when root, else print the command and fail.  "install": the same, always.
PKGS="pkg-config libyaml-dev libcjson-dev libcmocka-dev libopenblas-dev gnuplot-nox"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "attnroof: installing missing Debian packages:$missing"
if [ "$(id -u)" = 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null && exit 0
	echo "attnroof: apt-get failed" >&2
	exit 1
fi
echo "attnroof: run as root: apt-get update && apt-get install -y$missing" >&2
exit 1
