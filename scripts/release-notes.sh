#!/usr/bin/env bash
# Prints the notes of one version from CHANGELOG.md (Keep a Changelog): the lines under
# "## [X.Y.Z]" up to the next "## [". Fails when the version has no section, or an empty one.
#
#   scripts/release-notes.sh 1.2.3
set -euo pipefail

version=${1:?usage: scripts/release-notes.sh X.Y.Z}
changelog="$(dirname "$0")/../CHANGELOG.md"
notes=$(awk -v heading="## [$version]" '
  index($0, "## [") == 1 { inside = (index($0, heading) == 1) ; next }
  /^\[[^]]+\]: / { next }
  inside { print }
' "$changelog")
if [[ -z ${notes//[[:space:]]/} ]]; then
  echo "release-notes.sh: CHANGELOG.md has no notes under '## [$version]'; move the Unreleased entries there before tagging v$version" >&2
  exit 1
fi
printf '%s\n' "$notes" | sed -e '/./,$!d'
