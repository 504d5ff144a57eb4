#!/usr/bin/env bash
# Quick start, command 1: set everything up, check the host, then boot the default sandbox: the
# default guest (built from Debian packages on first use) boots, reports GUEST-READY on its console,
# and is stopped cleanly again. Exit status 0 means this host runs vmm sandboxes end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node packages/cli/dist/bin.js check
node packages/cli/dist/bin.js run --stop-when-ready
