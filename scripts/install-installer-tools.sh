#!/usr/bin/env bash
# Debian's tools that check the agent's installers the way their platforms will (test/installers,
# npm run lint:installers): xmllint (libxml2-utils), shellcheck, systemd-analyze (systemd) and
# cloud-init. The tests skip without them, saying so; CI installs them here and never skips.
set -euo pipefail
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  libxml2-utils shellcheck systemd cloud-init
