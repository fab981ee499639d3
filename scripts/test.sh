#!/usr/bin/env bash
# Runs the whole Dfs test suite for real: PostgreSQL, RabbitMQ and Redis from Debian's packages, clusters started from
# the real .NET Aspire AppHost. Ends with one line: "N passed, N failed" (", N skipped" when any).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
configuration=${CONFIGURATION:-Release}
results="$root/artifacts/test-results"
mkdir -p "$results"

# What the suite needs from Debian: the servers the local profile runs, the browser the dashboard's and the web
# console's tests drive, the nginx the benchmark compares with, the wrk its 4 KiB figures are measured with too, the
# network tools of the chaos run (ip, tc, nft) and the S3 clients scripts/s3-clients.sh drives (Debian's own aws: one
# from pip earlier on PATH does not count). Prints the packages still missing.
missing_packages() {
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || echo postgresql
  command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || echo rabbitmq-server
  [ -x /usr/bin/redis-server ] || echo redis-server
  [ -x /usr/bin/chromium ] || echo chromium
  [ -x /usr/sbin/nginx ] || echo nginx
  [ -x /usr/bin/wrk ] || echo wrk
  command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || echo iproute2
  command -v nft >/dev/null 2>&1 || echo nftables
  [ -x /usr/bin/aws ] || echo awscli
  [ -x /usr/bin/rclone ] || echo rclone
  [ -x /usr/bin/s3cmd ] || echo s3cmd
}
mapfile -t need_packages < <(missing_packages)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing ${need_packages[*]} from Debian's packages…"
    export DEBIAN_FRONTEND=noninteractive
    # The packages try to start system services and are refused without an init system: expected.
    (apt-get update -qq && apt-get install -y -qq "${need_packages[@]}") >"$root/artifacts/apt.log" 2>&1 || true
    mapfile -t still_missing < <(missing_packages)
    if [ ${#still_missing[@]} -gt 0 ]; then
      echo "Could not install ${still_missing[*]}; see artifacts/apt.log"
      echo "0 passed, 1 failed"
      exit 1
    fi
  else
    echo "Missing: ${need_packages[*]}. Install them with: sudo apt-get install -y ${need_packages[*]}"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi
rm -f "$results"/*.trx

echo "Building ($configuration)…"
if ! dotnet build Dfs.sln -c "$configuration" -nologo -clp:ErrorsOnly -v:q; then
  echo "Build failed."
  echo "0 passed, 1 failed"
  exit 1
fi

# One test project at a time: cluster tests start many processes and the machine has two cores. The projects that
# start clusters first; then the benchmark's short mode runs beside the unit-test projects, which need little CPU.
run_project() {
  local project=$1 name
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -c "$configuration" --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results"
}
cluster_projects=(tests/Dfs.AppHost.Tests/Dfs.AppHost.Tests.csproj tests/Dfs.Gateway.Tests/Dfs.Gateway.Tests.csproj
  tests/Dfs.IntegrationTests/Dfs.IntegrationTests.csproj)
status=0
for project in "${cluster_projects[@]}"; do
  run_project "$project" || status=1
done

# Then three things side by side, none of which needs a core of its own: the unit-test projects, the benchmark's short
# mode (so it cannot rot: it must run, it asserts nothing about speed) and a short seeded chaos run (docs/reliability.md:
# the cluster across network namespaces under faults; it fails on any lost acknowledged write, wrong or stale read,
# leaked chunk or replication not restored; DFS_CHAOS_SEED replays another seed).
mkdir -p "$root/artifacts/bench" "$root/artifacts/chaos"
dotnet "bench/Dfs.Bench/bin/$configuration/net10.0/Dfs.Bench.dll" --short --json "$root/artifacts/bench/short.json" \
  >"$root/artifacts/bench/short.log" 2>&1 &
bench_pid=$!
chaos_pid=
if [ "$(id -u)" -eq 0 ]; then
  dotnet "chaos/Dfs.Chaos/bin/$configuration/net10.0/Dfs.Chaos.dll" --seed "${DFS_CHAOS_SEED:-1}" --duration 30 \
    --json "$root/artifacts/chaos/short.json" --history "$root/artifacts/chaos/short-history.jsonl" >"$root/artifacts/chaos/short.log" 2>&1 &
  chaos_pid=$!
fi
for project in tests/*/*.csproj; do
  # Libraries the tests share (Dfs.Testing) hold no tests.
  grep -q '<IsTestProject>false</IsTestProject>' "$project" && continue
  [[ " ${cluster_projects[*]} " == *" $project "* ]] && continue
  run_project "$project" || status=1
done

echo "== bench (short)"
bench_passed=0
bench_failed=0
if wait $bench_pid; then
  bench_passed=1
  tail -5 "$root/artifacts/bench/short.log"
else
  echo "The benchmark's short mode failed; its end (all of it in artifacts/bench/short.log):"; tail -40 "$root/artifacts/bench/short.log"
  bench_failed=1
fi

echo "== chaos (short, seed ${DFS_CHAOS_SEED:-1})"
chaos_passed=0
chaos_failed=0
chaos_skipped=0
if [ -z "$chaos_pid" ]; then
  echo "Skipped: the chaos run creates network namespaces and mounts, which needs root."
  chaos_skipped=1
elif wait $chaos_pid; then
  chaos_passed=1
  grep -E '^(PASSED|\| (Operations|Acknowledged|Wrong|Stale|Unavailable|Every chunk))' "$root/artifacts/chaos/short.log"
else
  echo "The chaos run failed; its end (all of it in artifacts/chaos/short.log):"; grep -v '^      ' "$root/artifacts/chaos/short.log" | tail -60
  chaos_failed=1
fi

# Nothing we started may outlive the run. DCP removes what it ran, and itself, within seconds of its application's end:
# give it up to a minute.
find_orphans() {
  pgrep -af 'Dfs\.(Gateway|StorageNode|Replicator|AppHost)( |$|\.dll)|postgres -D .*dfs-|beam\.smp.*dfs-|redis-server .*:|epmd -port|aspire\.hosting\.orchestration.*/dcp |Aspire\.Dashboard' | grep -v pgrep || true
}
for _ in $(seq 60); do
  orphans=$(find_orphans)
  [ -z "$orphans" ] && break
  sleep 1
done
extra_failed=0
if [ -n "$orphans" ]; then
  echo "Orphan processes left behind:"; echo "$orphans"
  extra_failed=1
fi
# Nor the chaos run's network namespaces and links.
leftover_network=$( (ip netns list; ip -o link show) 2>/dev/null | grep -o 'dfsc[0-9a-f]\{4\}[^ :@]*' | sort -u || true)
if [ -n "$leftover_network" ]; then
  echo "Network namespaces or links left behind:"; echo "$leftover_network"
  extra_failed=1
fi

# The CI shows only the tail of this output: name each failed test (and its first message line) here.
python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
for path in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for r in ET.parse(path).getroot().iter(ns + "UnitTestResult"):
        if r.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"): continue
        m = r.find(f"{ns}Output/{ns}ErrorInfo/{ns}Message")
        msg = (m.text or "").strip().splitlines()[0][:300] if m is not None and m.text else ""
        print(f"FAILED {r.get('testName')}: {msg}")
PY
read -r passed failed skipped < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find("{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}ResultSummary/{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}Counters")
    if c is None: continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    s += int(c.get("notExecuted", 0))
print(p, f, s)
PY
)
passed=$((passed + bench_passed + chaos_passed))
failed=$((failed + extra_failed + bench_failed + chaos_failed))
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a test host that crashed wrote no failures
skipped=$((skipped + chaos_skipped))
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
