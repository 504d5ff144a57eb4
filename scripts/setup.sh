#!/usr/bin/env bash
# Set up a vmm checkout on Debian 12 with Node 20.19+: pnpm (pinned), QEMU and guest build tools from
# Debian's packages, workspace dependencies, a build, and the default test guest. Idempotent: a
# second run only checks. Needs root (or sudo) only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
node_minor=$(node -p 'process.versions.node.split(".")[1]')
if [ "$node_major" -lt 20 ] || { [ "$node_major" = 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "vmm needs Node 20.19 or newer (found $(node --version))" >&2
  exit 1
fi

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  log "installing pnpm $pnpm_version"
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

# Debian packages: QEMU for x86_64 (the one sandboxes use) plus the other architectures' emulators
# that @vmm/qemu-arch verifies its rules against (with the arm64 UEFI firmware its NVDIMM case boots:
# a Recommends of qemu-system-arm, which --no-install-recommends skips); busybox-static and xz for the guest.
debs=(qemu-system-x86 qemu-utils qemu-system-arm qemu-efi-aarch64 qemu-system-ppc qemu-system-misc busybox-static xz-utils iproute2)
missing=()
for d in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

log "installing workspace dependencies"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile; else pnpm install --prefer-offline; fi

log "building packages"
pnpm run build

if [ -f tools/guest/package.json ] && grep -q '"build-guest"' tools/guest/package.json; then
  log "building the default guest (Debian kernel + busybox initramfs, cached)"
  pnpm --filter @vmm/guest run build-guest
fi
