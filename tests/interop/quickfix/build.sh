#!/usr/bin/env bash
# Builds the QuickFIX initiator and its FIX 4.4 data dictionary into a cache directory, only when the sources (or
# the installed QuickFIX headers) changed since the last build. Needs Debian's libquickfix-dev and g++.
#
# Usage: build.sh <cache dir>   → <cache dir>/rotor-quickfix-initiator and <cache dir>/FIX44.xml
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${1:?usage: build.sh <cache dir>}"
include_dir=/usr/include/quickfix

if [ ! -f "$include_dir/fix44/AllocationInstruction.h" ] || ! command -v g++ >/dev/null; then
  echo "build.sh: needs Debian's libquickfix-dev and g++ (apt-get install -y libquickfix-dev g++)" >&2
  exit 1
fi

mkdir -p "$out"
fingerprint=$(cat "$here/initiator.cpp" "$here/fix44-dictionary.ts" "$here/build.sh" "$include_dir/fix44/AllocationInstruction.h" \
  "$include_dir/FixFields.h" | sha256sum | cut -d' ' -f1)
if [ -x "$out/rotor-quickfix-initiator" ] && [ -f "$out/FIX44.xml" ] && [ "$(cat "$out/fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
  exit 0
fi

# Concurrent builds (parallel test files) each write their own files and rename them into place.
tmp="$out/.build.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$repo/node_modules/.bin/tsx" "$here/fix44-dictionary.ts" "$include_dir" "$tmp/FIX44.xml"
g++ -O1 -std=c++14 -Wall -Wno-deprecated -o "$tmp/rotor-quickfix-initiator" "$here/initiator.cpp" -lquickfix -lpthread
mv -f "$tmp/FIX44.xml" "$out/FIX44.xml"
mv -f "$tmp/rotor-quickfix-initiator" "$out/rotor-quickfix-initiator"
echo "$fingerprint" > "$out/fingerprint"
