#!/usr/bin/env bash
# The one test command, for a developer and for CI (.ci/run):
#   1. installs the real TPM peers the interop tests drive, if any is missing (Debian 12);
#   2. builds the solution once in Release;
#   3. packs every package into artifacts/feed (the packaging test consumes it);
#   4. runs every tests/*/*.Tests.csproj one after another, never stopping at a failure,
#      with a trx file per project (artifacts/test-results) and cobertura coverage
#      (artifacts/coverage);
#   5. sums all trx files and ends with exactly one line "N passed, N failed, N skipped".
# Exits non-zero if a test failed, a step failed to build/pack/run, or no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export SNAPSHOOTER_STRICT_MODE=on          # a missing or changed snapshot fails
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

results="$root/artifacts/test-results"
coverage="$root/artifacts/coverage"
rm -rf -- "$results" "$coverage"
mkdir -p -- "$results" "$coverage"

problems=()   # steps that failed outside of test results

step() { printf '\n==== %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
step "prerequisites"
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_lib() {
  local d
  for d in /usr/lib/*-linux-gnu /usr/lib /lib/*-linux-gnu /usr/lib64; do
    [ -e "$d/$1" ] && return 0
  done
  return 1
}
missing=()
have_cmd swtpm              || missing+=(swtpm)
have_cmd swtpm_setup        || missing+=(swtpm-tools)
have_cmd tpm2_quote         || missing+=(tpm2-tools)
have_lib libtss2-tcti-swtpm.so.0 || missing+=(libtss2-tcti-swtpm0)
have_lib libtss2-tcti-mssim.so.0 || missing+=(libtss2-tcti-mssim0)
have_cmd tsscreateprimary   || missing+=(tss2)
have_cmd openssl            || missing+=(openssl)
[ -f /usr/include/tss2/tss2_tpm2_types.h ] || missing+=(libtss2-dev)

if [ ${#missing[@]} -eq 0 ]; then
  echo "swtpm, tpm2-tools, tss2 (IBM TSS), TCTIs, openssl and libtss2-dev are installed"
else
  echo "missing: ${missing[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if have_cmd sudo; then
      # A developer at a terminal may type a password; a script without one must not hang.
      if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
    else
      as_root=(none)
    fi
  fi
  if [ "${as_root[0]:-}" = none ]; then
    echo "WARNING: not root and no sudo: install ${missing[*]} by hand; interop tests will fail" >&2
    problems+=("prerequisites (${missing[*]} missing)")
  elif ! have_cmd apt-get; then
    echo "WARNING: no apt-get: install ${missing[*]} by hand; interop tests will fail" >&2
    problems+=("prerequisites (${missing[*]} missing)")
  elif "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
       && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "installed: ${missing[*]}"
  else
    echo "WARNING: apt-get could not install ${missing[*]}" >&2
    problems+=("prerequisites (apt-get install ${missing[*]} failed)")
  fi
fi

# ---------------------------------------------------------------------------------------------
step "build (Release)"
if ! dotnet build TrustStack.sln -c Release -nologo; then
  echo "BUILD FAILED: test projects that did not build will be reported as errors" >&2
  problems+=("build")
fi

# ---------------------------------------------------------------------------------------------
step "pack (eng/pack.sh)"
if ! bash eng/pack.sh --no-build; then
  echo "PACK FAILED" >&2
  problems+=("pack")
fi
export TRUSTSTACK_PACKED=1   # pack ran: the packaging test consumes this feed and never packs again

# ---------------------------------------------------------------------------------------------
# Test projects, one after another; the packaging test (slowest, needs the feed) runs last.
projects=()
for proj in tests/*/*.Tests.csproj; do
  [ -e "$proj" ] || continue
  case "$proj" in */Packaging.Tests.csproj) ;; *) projects+=("$proj") ;; esac
done
for proj in tests/*/Packaging.Tests.csproj; do
  [ -e "$proj" ] && projects+=("$proj")
done

declare -A exit_codes=()
for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  step "test $name"
  dotnet test "$proj" --no-build -c Release -nologo \
    --logger "trx;LogFileName=$results/$name.trx" \
    --results-directory "$coverage/$name" \
    --collect "XPlat Code Coverage" \
    --blame-hang-timeout 20m --blame-hang-dump-type none
  exit_codes[$name]=$?
done

# ---------------------------------------------------------------------------------------------
# Counts per trx: "name passed failed skipped total" or "name ERROR reason".
count_trx() {
  local trx=$1
  if have_cmd python3 && python3 -c 'import xml.etree.ElementTree' >/dev/null 2>&1; then
    python3 - "$trx" <<'PY'
import os, sys, xml.etree.ElementTree as ET
path = sys.argv[1]
name = os.path.splitext(os.path.basename(path))[0]
try:
    counters = next(e for e in ET.parse(path).iter() if e.tag.rsplit('}', 1)[-1] == 'Counters')
except (ET.ParseError, StopIteration, OSError) as err:
    print(f"{name} ERROR unreadable trx ({type(err).__name__})")
    sys.exit(0)
def n(key):
    try:
        return int(counters.get(key, '0'))
    except ValueError:
        return 0
passed = n('passed') + n('passedButRunAborted')
failed = n('failed') + n('error') + n('timeout') + n('aborted')
skipped = n('notExecuted') + n('inconclusive') + n('notRunnable')
print(f"{name} {passed} {failed} {skipped} {n('total')}")
PY
    return
  fi
  # No python3: take the attributes of the one <Counters .../> element.
  local name line
  name=$(basename "$trx" .trx)
  line=$(tr '\n' ' ' <"$trx" | grep -o '<Counters [^>]*>' | head -n 1)
  if [ -z "$line" ]; then echo "$name ERROR unreadable trx"; return; fi
  attr() { local v; v=$(grep -o " $1=\"[0-9]*\"" <<<"$line" | grep -o '[0-9]*' | head -n 1); echo "${v:-0}"; }
  echo "$name $(( $(attr passed) + $(attr passedButRunAborted) )) \
$(( $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted) )) \
$(( $(attr notExecuted) + $(attr inconclusive) + $(attr notRunnable) )) $(attr total)"
}

step "summary"
total_passed=0 total_failed=0 total_skipped=0 errors=0
for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  rc=${exit_codes[$name]}
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    printf '  %-28s ERROR no trx (dotnet test exit %s: did it build?)\n' "$name" "$rc"
    errors=$((errors + 1))
    continue
  fi
  read -r _ p f s t <<<"$(count_trx "$trx")"
  if [ "$p" = ERROR ]; then
    printf '  %-28s ERROR %s\n' "$name" "$f $s $t"
    errors=$((errors + 1))
    continue
  fi
  total_passed=$((total_passed + p)); total_failed=$((total_failed + f)); total_skipped=$((total_skipped + s))
  note=""
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    note="  ERROR: dotnet test exit $rc with no failed test (host crash or run error)"
    errors=$((errors + 1))
  fi
  printf '  %-28s passed=%s failed=%s skipped=%s%s\n' "$name" "$p" "$f" "$s" "$note"
done
for problem in "${problems[@]}"; do
  printf '  %-28s FAILED\n' "step: $problem"
done
[ ${#projects[@]} -gt 0 ] || echo "  no test project found under tests/"
echo "  trx: artifacts/test-results/  coverage: artifacts/coverage/*/*/coverage.cobertura.xml"

status=0
[ "$total_failed" -eq 0 ] || status=1
[ "$errors" -eq 0 ] || status=1
[ ${#problems[@]} -eq 0 ] || status=1
if [ $((total_passed + total_failed)) -eq 0 ]; then
  echo "  no test ran" >&2
  status=1
fi
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
exit $status
