#!/usr/bin/env bash
# Builds the instruction-decoder fixtures of test/insn.test.ts from test/bpf-insn/insns.bpf.c
# and records llvm-objdump's disassembly of them, the oracle the test compares btfkit against.
#
#   tools/make-insn-fixtures.sh            (from anywhere; writes into test/fixtures/bpf-insn/)
#
# For each (compiler, -mcpu) pair below and both byte orders:
#   test/fixtures/bpf-insn/insns.CC.CPU.bpfel.o.gz          clang -target bpf   -mcpu=CPU -g -O2 -c
#   test/fixtures/bpf-insn/insns.CC.CPU.bpfeb.o.gz          clang -target bpfeb -mcpu=CPU -g -O2 -c
#   ....o.objdump.txt.gz         llvm-objdump -d --no-show-raw-insn X.o
#   ....o.objdump-alu32.txt.gz   the same with --mattr=+alu32 (without it llvm-objdump cannot
#                                decode 32-bit atomics with fetch, exchange or compare-exchange)
# clang 14 knows cpu v1 to v3, clang 19 also v4 (sign extension, signed division, byte swaps).
# Reproducible like tools/make-bpf-fixtures.sh (debug prefix mapped, gzip -n).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=test/fixtures/bpf-insn
OBJDUMP=${OBJDUMP:-llvm-objdump-19}
BUILDS=${BUILDS:-"clang-14:v1 clang-14:v3 clang-19:v2 clang-19:v4"}

cd "$ROOT"
command -v "$OBJDUMP" >/dev/null || { echo "make-insn-fixtures: $OBJDUMP not found" >&2; exit 1; }
ASM_INC=/usr/include/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*.gz

{
  echo "# made by tools/make-insn-fixtures.sh"
  echo "objdump: $("$OBJDUMP" --version | grep -m1 -i version)"
} > "$TMP/VERSIONS"
for build in $BUILDS; do
  cc=${build%%:*}
  cpu=${build#*:}
  command -v "$cc" >/dev/null || { echo "make-insn-fixtures: $cc not found" >&2; exit 1; }
  grep -q "^$cc:" "$TMP/VERSIONS" || echo "$cc: $("$cc" --version | sed -n 1p)" >> "$TMP/VERSIONS"
  major=$("$cc" -dumpversion | cut -d. -f1)
  for order in bpfel bpfeb; do
    target=bpf; [ "$order" = bpfeb ] && target=bpfeb
    obj=insns.clang$major.$cpu.$order.o
    "$cc" -target "$target" -mcpu="$cpu" -g -O2 -Wall -Werror -I"$ASM_INC" \
      -fdebug-prefix-map="$ROOT"=. -c test/bpf-insn/insns.bpf.c -o "$TMP/$obj"
    # The file name line would hold the temporary directory.
    "$OBJDUMP" -d --no-show-raw-insn "$TMP/$obj" | sed 1,2d > "$TMP/$obj.objdump.txt"
    "$OBJDUMP" -d --no-show-raw-insn --mattr=+alu32 "$TMP/$obj" | sed 1,2d > "$TMP/$obj.objdump-alu32.txt"
    for f in "$obj" "$obj.objdump.txt" "$obj.objdump-alu32.txt"; do gzip -n -9 -c "$TMP/$f" > "$OUT/$f.gz"; done
    printf '%-36s %6d bytes, %4d instructions\n' "$obj" "$(stat -c %s "$TMP/$obj")" "$(grep -cE '^ +[0-9]+:' "$TMP/$obj.objdump.txt")"
  done
done
cp "$TMP/VERSIONS" "$OUT/VERSIONS"
