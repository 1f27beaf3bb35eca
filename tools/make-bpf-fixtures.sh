#!/usr/bin/env bash
# Builds the BPF object fixtures of test/bpf-objects.test.ts and records bpftool's dumps of
# them, the oracle the test compares btfkit against.
#
#   tools/make-bpf-fixtures.sh            (from anywhere; writes into test/fixtures/bpf/)
#
# For every test/bpf/NAME.bpf.c, every compiler in $CLANGS and both BPF byte orders:
#   test/fixtures/bpf/NAME.CC.bpfel.o.gz        clang -target bpf   -g -O2 -c
#   test/fixtures/bpf/NAME.CC.bpfeb.o.gz        clang -target bpfeb -g -O2 -c
#   ....o.raw.txt.gz                            bpftool btf dump file X.o format raw
#   ....o.json.gz                               bpftool -j btf dump file X.o
# CC is the compiler's major version (clang14, clang19). Two compilers because clang 14 (Debian
# 12's default) cannot emit ENUM64 or signed enums, which clang >= 15 does.
#
# A source that an older clang cannot compile says so in a line of its own:
#   // btfkit-fixture: min-clang 15
# and is built only by the compilers of that major version or newer (test/bpf/core_matches.bpf.c:
# clang 14 has no type_matches relocation and writes no ENUM64). Sources include headers from
# test/bpf/ (core_kernel.h: the CO-RE corpus's local views of kernel types).
#
# Reproducible: sources are compiled by relative path from the repository root with the
# debug prefix mapped (the .BTF string table holds file names and source lines from
# .BTF.ext line info), and gzip -n stores no name or time stamp.
#
# Needs clang-14 and clang-19 (apt-get install clang-14 clang-19), bpftool, libbpf-dev.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=test/fixtures/bpf
CLANGS=${CLANGS:-"clang-14 clang-19"}
BPFTOOL=${BPFTOOL:-bpftool}

cd "$ROOT"
for cc in $CLANGS; do
  command -v "$cc" >/dev/null || { echo "make-bpf-fixtures: $cc not found (apt-get install $cc)" >&2; exit 1; }
done
command -v "$BPFTOOL" >/dev/null || { echo "make-bpf-fixtures: bpftool not found" >&2; exit 1; }

# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the multiarch directory.
ASM_INC=/usr/include/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*.o.gz "$OUT"/*.o.raw.txt.gz "$OUT"/*.o.json.gz

{
  echo "# made by tools/make-bpf-fixtures.sh"
  echo "bpftool: $("$BPFTOOL" version | sed -n 1p)"
  for cc in $CLANGS; do echo "$cc: $("$cc" --version | sed -n 1p)"; done
  echo "libbpf-dev: $(dpkg-query -W -f '${Version}' libbpf-dev 2>/dev/null || echo unknown)"
} > "$TMP/VERSIONS"

for src in test/bpf/*.bpf.c; do
  name=$(basename "$src" .bpf.c)
  min_clang=$(sed -n 's|^// btfkit-fixture: min-clang \([0-9]*\)$|\1|p' "$src")
  for cc in $CLANGS; do
    major=$("$cc" -dumpversion | cut -d. -f1)
    if [ -n "$min_clang" ] && [ "$major" -lt "$min_clang" ]; then
      echo "make-bpf-fixtures: $name: skipped for $cc (the source needs clang >= $min_clang)" >&2
      continue
    fi
    for order in bpfel bpfeb; do
      target=bpf; [ "$order" = bpfeb ] && target=bpfeb
      obj=$name.clang$major.$order.o
      "$cc" -target "$target" -g -O2 -Wall -Werror -I"$ASM_INC" \
        -fdebug-prefix-map="$ROOT"=. -c "$src" -o "$TMP/$obj"
      "$BPFTOOL" btf dump file "$TMP/$obj" format raw > "$TMP/$obj.raw.txt"
      "$BPFTOOL" -j btf dump file "$TMP/$obj" > "$TMP/$obj.json"
      for f in "$obj" "$obj.raw.txt" "$obj.json"; do gzip -n -9 -c "$TMP/$f" > "$OUT/$f.gz"; done
      printf '%-40s %6d bytes, %5d types\n' "$obj" "$(stat -c %s "$TMP/$obj")" "$(grep -c '^\[' "$TMP/$obj.raw.txt")"
    done
    # The two byte orders carry the same types: bpftool's dumps of them must agree.
    cmp -s "$TMP/$name.clang$major.bpfel.o.raw.txt" "$TMP/$name.clang$major.bpfeb.o.raw.txt" \
      || echo "make-bpf-fixtures: note: bpftool dumps $name.clang$major bpfel and bpfeb differently" >&2
  done
done
cp "$TMP/VERSIONS" "$OUT/VERSIONS"
