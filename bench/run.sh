#!/usr/bin/env bash
# The Dfs benchmark: builds bench/Dfs.Bench in Release (with the AppHost and the services it starts) and runs it,
# passing every argument through.
#   bash bench/run.sh            full run (1 GiB files, 4 KiB objects, 100,000 entries, 4 GiB for RSS; 3 runs):
#                                prints the table, writes artifacts/bench/results.json and refreshes docs/benchmarks.md
#   bash bench/run.sh --short    a few seconds of measuring (CI): proves the benchmark still works, asserts nothing about speed
#   bash bench/run.sh --only wrk only the 4 KiB figures measured with wrk, beside nginx (refreshes their docs section)
#   bash bench/run.sh --help     every option (--runs, --size, --gateway URL, --json, --markdown, …)
# The S3 tools' figures (aws s3 cp, rclone copy beside dfs and nginx WebDAV) have a script of their own: bench/s3-tools.sh.
# BENCH_BUILD_REFERENCES=0 builds only the benchmark project (the src projects must already be built in Release).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
if [ ${#missing[@]} -gt 0 ] && [[ " $* " != *" --gateway "* ]] && [[ " $* " != *" --help "* ]]; then
  echo "The benchmark starts a local-profile cluster and needs: ${missing[*]} (apt-get install -y ${missing[*]})." >&2
  exit 1
fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
  echo "nginx is not installed: its baselines will be n/a (apt-get install -y nginx)." >&2
command -v wrk >/dev/null 2>&1 || [ -x /usr/bin/wrk ] ||
  echo "wrk is not installed: the wrk figures will be skipped (apt-get install -y wrk)." >&2

build_args=(-c Release -nologo -v:q -clp:ErrorsOnly)
[ "${BENCH_BUILD_REFERENCES:-1}" = 0 ] && build_args+=(-p:BuildProjectReferences=false)
dotnet build bench/Dfs.Bench/Dfs.Bench.csproj "${build_args[@]}"

exec dotnet bench/Dfs.Bench/bin/Release/net10.0/Dfs.Bench.dll "$@"
