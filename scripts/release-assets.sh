#!/usr/bin/env bash
# Gathers what a release attaches into one flat folder, and SHA256SUMS over every file in it.
# The cloud-init example is stamped with the release's version, so it downloads its own release.
#
#   scripts/release-assets.sh v1.2.3 <out-dir>
set -euo pipefail

tag=${1:?usage: scripts/release-assets.sh vX.Y.Z <out-dir>}
out=${2:?usage: scripts/release-assets.sh vX.Y.Z <out-dir>}
[[ $tag =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "release-assets.sh: the tag must be vX.Y.Z, not '$tag'" >&2; exit 2; }
cd "$(dirname "$0")/.."

# The one list of release assets (the release workflow uploads the folder as it is).
assets=(
  agent/dist/azure-spot-restarter-agent.cjs
  agent/install/linux/install.sh
  agent/install/linux/azure-spot-restarter-agent.service
  agent/install/windows/install.ps1
  agent/install/windows/azure-spot-restarter-agent.task.xml
  agent/install/cloud-init/cloud-config.yml
)

mkdir -p "$out"
if [[ -n $(ls -A "$out") ]]; then echo "release-assets.sh: $out is not empty" >&2; exit 2; fi
for file in "${assets[@]}"; do
  cp -- "$file" "$out/"
done
grep -q '^      version=v[0-9.]*$' "$out/cloud-config.yml" || { echo "release-assets.sh: no version= line in cloud-config.yml" >&2; exit 1; }
sed -i "s/^      version=v[0-9.]*$/      version=$tag/" "$out/cloud-config.yml"

cd "$out"
sha256sum -- * > SHA256SUMS
cat SHA256SUMS
