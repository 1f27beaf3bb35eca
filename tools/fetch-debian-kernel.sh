#!/usr/bin/env bash
# Fetches the BTF of a Debian 12 "cloud" kernel build and of all its modules, as real test data
# for btfkit's sweep (test/sweep.test.ts).
#
#   tools/fetch-debian-kernel.sh [OUTDIR] [VERSION]
#
# OUTDIR   where to put the build (default: ./data)
# VERSION  which build: "6.1.0-50", "50", "6.1.0-50-cloud-amd64", or a path to an already
#          downloaded linux-image-6.1.0-NN-cloud-amd64-unsigned_*.deb (Debian drops superseded
#          builds from its archive, so an old one may only exist as a saved .deb or on
#          snapshot.debian.org). Default: the newest 6.1.0 cloud build apt knows about.
#
# BTFKIT_KERNEL_FLAVOUR picks another flavour than cloud-amd64 (amd64: the generic build, XZ
# payload, ~4,000 modules; rt-amd64); a .deb path brings its own flavour.
# BTFKIT_KERNEL_MODULES=0 fetches vmlinux.btf only (no modules/): what the CO-RE tests need of
# a second flavour (.ci/run fetches rt-amd64 so into data/core-targets), in a fraction of the
# time (only boot/ is unpacked; the ~4,000 compressed modules are not).
#
# Result:
#   OUTDIR/debian-<abi>/vmlinux.btf           the .BTF section of the kernel image
#   OUTDIR/debian-<abi>/modules/<path>.ko     every module, decompressed, path relative to
#                                             lib/modules/<abi>/kernel
#   OUTDIR/debian-<abi>/build                 marker, written last: package, version, counts
# A build whose marker exists is not fetched again.
#
# Needs: apt-get, dpkg, lz4 or xz (whichever the image uses), objcopy or llvm-objcopy,
# xz/zstd/gzip for compressed modules.
set -euo pipefail

OUTDIR=${1:-./data}
WANT=${2:-}
FLAVOUR=${BTFKIT_KERNEL_FLAVOUR:-cloud-amd64}
WITH_MODULES=${BTFKIT_KERNEL_MODULES:-1}

log() { printf 'fetch-debian-kernel: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Lists the 6.1.0-NN cloud ABIs apt knows, oldest first.
known_abis() {
  apt-cache search --names-only "^linux-image-6\.1\.0-[0-9]+-${FLAVOUR}-unsigned\$" 2>/dev/null \
    | sed -n "s/^linux-image-\(6\.1\.0-[0-9]*\)-${FLAVOUR}-unsigned .*/\1/p" | sort -V
}

# True when apt has a downloadable candidate for the package (apt-cache search also lists
# names that only a stale list still mentions).
has_candidate() {
  local cand
  cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

DEB=
if [ -n "$WANT" ] && [ -f "$WANT" ]; then
  DEB=$(readlink -f "$WANT")
  PKG=$(dpkg-deb -f "$DEB" Package)
  ABI=$(printf '%s' "$PKG" | sed -n 's/^linux-image-\(6\.1\.0-[0-9]*\)-[a-z0-9-]*-unsigned$/\1/p')
  [ -n "$ABI" ] || die "$WANT is $PKG, not a linux-image-6.1.0-NN-FLAVOUR-unsigned package"
  FLAVOUR=${PKG#linux-image-"$ABI"-}; FLAVOUR=${FLAVOUR%-unsigned}
else
  case "$WANT" in
    '') ABI= ;;
    [0-9]|[0-9][0-9]|[0-9][0-9][0-9]) ABI=6.1.0-$WANT ;;
    6.1.0-*) ABI=${WANT%-"$FLAVOUR"}; ABI=${ABI%-cloud} ;;
    *) die "unrecognised VERSION '$WANT' (want 6.1.0-NN, NN, or a .deb path)" ;;
  esac
  if [ -z "$ABI" ]; then
    if [ -z "$(known_abis)" ]; then
      log "no 6.1.0 cloud kernel in apt's lists: running apt-get update"
      apt-get update -qq
    fi
    # Newest ABI with a real candidate (search output may be ahead of what can be downloaded).
    for a in $(known_abis | sort -rV); do
      if has_candidate "linux-image-$a-${FLAVOUR}-unsigned"; then ABI=$a; break; fi
    done
    [ -n "$ABI" ] || die "apt knows no downloadable linux-image-6.1.0-NN-${FLAVOUR}-unsigned"
  fi
  PKG=linux-image-$ABI-${FLAVOUR}-unsigned
fi

BUILD=debian-$ABI-$FLAVOUR
DEST=$OUTDIR/$BUILD
if [ -f "$DEST/build" ]; then
  log "$DEST already fetched ($(sed -n 's/^version=//p' "$DEST/build")), nothing to do"
  printf '%s\n' "$DEST"
  exit 0
fi

START=$(date +%s)
mkdir -p "$OUTDIR"
WORK=$(mktemp -d "$OUTDIR/.fetch-$ABI.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ -z "$DEB" ]; then
  if ! has_candidate "$PKG"; then
    log "$PKG has no candidate: running apt-get update"
    apt-get update -qq
    has_candidate "$PKG" || die "$PKG is not in the archive (superseded builds are removed; pass a saved .deb instead)"
  fi
  log "downloading $PKG"
  # apt's _apt user must be able to write the directory, or apt falls back to root with a warning.
  chmod 0777 "$WORK"
  (cd "$WORK" && apt-get download -q "$PKG" >&2)
  DEB=$(ls "$WORK"/"$PKG"_*.deb)
fi
VERSION=$(dpkg-deb -f "$DEB" Version)
log "unpacking $(basename "$DEB")"
if [ "$WITH_MODULES" = 0 ]; then
  mkdir -p "$WORK/root"
  dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/root" ./boot
else
  dpkg-deb -x "$DEB" "$WORK/root"
fi

# --- vmlinux.btf -----------------------------------------------------------------------
# The bzImage carries the compressed vmlinux ELF as its payload: the protected-mode code
# starts after (setup_sects + 1) 512-byte sectors, and payload_offset is relative to it.
VMLINUZ=$(ls "$WORK"/root/boot/vmlinuz-*)
u8()  { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 --endian=little "$1" | tr -d ' '; }
[ "$(od -An -c -j 0x202 -N4 "$VMLINUZ" | tr -d ' ')" = HdrS ] || die "$VMLINUZ: no x86 boot header"
SETUP_SECTS=$(u8 "$VMLINUZ" $((0x1f1)))
[ "$SETUP_SECTS" -eq 0 ] && SETUP_SECTS=4
PAYLOAD_OFFSET=$(u32 "$VMLINUZ" $((0x248)))
PAYLOAD_LENGTH=$(u32 "$VMLINUZ" $((0x24c)))
START_BYTE=$(( (SETUP_SECTS + 1) * 512 + PAYLOAD_OFFSET ))
payload() { tail -c +$((START_BYTE + 1)) "$VMLINUZ" | head -c "$PAYLOAD_LENGTH"; }
MAGIC=$(od -An -tx1 -j "$START_BYTE" -N6 "$VMLINUZ" | tr -d ' \n')
log "payload: $PAYLOAD_LENGTH bytes at $START_BYTE, magic $MAGIC"
case "$MAGIC" in
  # The kernel appends the decompressed size after the lz4 frames, which lz4 reports as
  # trailing garbage once it has written everything; the ELF check below is what counts.
  02214c18*) payload | lz4 -dc > "$WORK/vmlinux" 2>/dev/null || true ;;
  fd377a585a00) payload | xz -dc > "$WORK/vmlinux" 2>/dev/null || true ;;
  1f8b*) payload | gzip -dc > "$WORK/vmlinux" 2>/dev/null || true ;;
  28b52ffd*) payload | zstd -dcq > "$WORK/vmlinux" 2>/dev/null || true ;;
  425a68*) payload | bzip2 -dc > "$WORK/vmlinux" 2>/dev/null || true ;;
  *) die "unknown payload compression (magic $MAGIC)" ;;
esac
[ "$(od -An -tx1 -N4 "$WORK/vmlinux" | tr -d ' ')" = 7f454c46 ] || die "decompressed payload is not an ELF file"
OBJCOPY=$(command -v objcopy || command -v llvm-objcopy) || die "need objcopy or llvm-objcopy"
mkdir -p "$WORK/out/modules"
"$OBJCOPY" -O binary --only-section=.BTF "$WORK/vmlinux" "$WORK/out/vmlinux.btf"
[ -s "$WORK/out/vmlinux.btf" ] || die "vmlinux has no .BTF section"
rm -f "$WORK/vmlinux"

# --- modules ---------------------------------------------------------------------------
count=0
if [ "$WITH_MODULES" != 0 ]; then
KDIR=$(ls -d "$WORK"/root/lib/modules/*/kernel)
while IFS= read -r -d '' f; do
  rel=${f#"$KDIR"/}
  base=${rel%.xz}; base=${base%.zst}; base=${base%.gz}
  mkdir -p "$WORK/out/modules/$(dirname "$base")"
  case "$rel" in
    *.ko.xz) xz -dc "$f" > "$WORK/out/modules/$base" ;;
    *.ko.zst) zstd -dcq "$f" > "$WORK/out/modules/$base" ;;
    *.ko.gz) gzip -dc "$f" > "$WORK/out/modules/$base" ;;
    *) mv "$f" "$WORK/out/modules/$base" ;;
  esac
  count=$((count + 1))
done < <(find "$KDIR" -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
[ "$count" -gt 0 ] || die "no modules under $KDIR"
fi

{
  printf 'package=%s\nversion=%s\nabi=%s\nmodules=%s\n' "$PKG" "$VERSION" "$ABI-$FLAVOUR" "$count"
  printf 'vmlinux_btf_bytes=%s\nfetched=%s\n' "$(stat -c %s "$WORK/out/vmlinux.btf")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$WORK/out/build"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
log "$DEST: $count modules, $(du -sh "$DEST" | cut -f1), $(( $(date +%s) - START ))s"
printf '%s\n' "$DEST"
