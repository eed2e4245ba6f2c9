#!/usr/bin/env bash
# Records new public API in each package's PublicAPI.Unshipped.txt: builds, takes every
# RS0016 ("not part of the declared public API") symbol and appends it, sorted. Review the
# diff: an intended API change is one command, an unintended one fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
projects=("${@:-}")
[ -n "${projects[0]}" ] || projects=(packages/*/*.csproj)
for proj in "${projects[@]}"; do
  grep -q '<ProjectType>Library</ProjectType>' "$proj" || continue
  dir=$(dirname "$proj")
  # Parallel branches merge PublicAPI.Unshipped.txt by union (.gitattributes): drop duplicates first.
  { echo '#nullable enable'; grep -v '^#nullable enable$' "$dir/PublicAPI.Unshipped.txt" | sort -u; } > "$dir/PublicAPI.Unshipped.tmp"
  mv "$dir/PublicAPI.Unshipped.tmp" "$dir/PublicAPI.Unshipped.txt"
  for _ in 1 2 3; do
    out=$(dotnet build "$proj" --no-incremental -p:TreatWarningsAsErrors=false 2>&1 || true)
    new=$(grep -o "RS0016: Symbol '.*' is not part of the declared public API" <<<"$out" | sed "s/^RS0016: Symbol '//; s/' is not part of the declared public API$//" | sort -u || true)
    [ -n "$new" ] || break
    { tail -n +2 "$dir/PublicAPI.Unshipped.txt"; echo "$new"; } | sort -u > "$dir/PublicAPI.Unshipped.tmp"
    { echo '#nullable enable'; cat "$dir/PublicAPI.Unshipped.tmp"; } > "$dir/PublicAPI.Unshipped.txt"
    rm "$dir/PublicAPI.Unshipped.tmp"
    echo "$dir: recorded $(wc -l <<<"$new") symbols"
  done
done
