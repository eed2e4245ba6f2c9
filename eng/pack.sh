#!/usr/bin/env bash
# Packs every package under packages/ in Release into artifacts/feed, the `local` source that
# nuget.config (and samples/) name for TrustStack.* ids. Extra arguments go to each
# `dotnet pack` (eng/test.sh passes --no-build after its one build).
set -euo pipefail
cd "$(dirname "$0")/.."
feed=artifacts/feed
cache=${NUGET_PACKAGES:-${HOME:-/root}/.nuget/packages}

# NuGet never re-extracts an id/version it already holds, so a re-pack of the same version
# would be hidden behind the cached copy: drop every cached TrustStack.* package (NuGet keeps
# them in lower-case folders).
shopt -s nullglob
for dir in "$cache"/truststack.*; do
  rm -rf -- "$dir"
done

# The feed holds exactly what this tree packs.
mkdir -p "$feed"
rm -f -- "$feed"/TrustStack.*.nupkg "$feed"/TrustStack.*.snupkg

status=0
for proj in packages/*/*.csproj; do
  echo "pack: $proj"
  if ! dotnet pack "$proj" -c Release -o "$feed" -nologo "$@"; then
    echo "pack: FAILED $proj" >&2
    status=1
  fi
done

echo "pack: feed $feed now holds:"
for pkg in "$feed"/*.nupkg; do echo "  $(basename "$pkg")"; done
exit $status
