#!/usr/bin/env bash
# The S3 tools' figures of the benchmark: what people would time themselves. Each copy is timed three ways, in the same
# run, on the same disk, with the file in the page cache for all of them:
#   - through Dfs's S3 API with the S3 tools (aws s3 cp, rclone copy),
#   - through Dfs's own API with the dfs command line (dfs put/get; the 4 KiB files as put lines of one dfs shell),
#   - through nginx WebDAV (curl -T / curl -o; rclone copy to a webdav remote): the plain-HTTP baseline.
# It starts its own cluster from the AppHost (local profile, the AppHost's defaults) and its own nginx, and stops both.
#   bash bench/s3-tools.sh                 1 GiB up and down, 1,000 files of 4 KiB, 3 runs (medians)
#   BENCH_S3_SIZE_MIB=64 BENCH_S3_FILES=100 BENCH_S3_RUNS=1 bash bench/s3-tools.sh    a quick look
# Prints a Markdown table (also written to artifacts/bench/s3-tools.md) for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size_mib=${BENCH_S3_SIZE_MIB:-1024}
files=${BENCH_S3_FILES:-1000}
runs=${BENCH_S3_RUNS:-3}
# rclone's webdav remote lists with PROPFIND, which nginx answers only with the dav-ext module.
dav_ext=/usr/lib/nginx/modules/ngx_http_dav_ext_module.so
for tool in /usr/bin/aws rclone curl jq bc /usr/sbin/nginx $dav_ext; do
  [ -e "$tool" ] || command -v "$tool" >/dev/null ||
    { echo "$tool is missing (apt-get install -y awscli rclone curl jq bc nginx libnginx-mod-http-dav-ext)" >&2; exit 1; }
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy AWS_CA_BUNDLE
export NO_PROXY='*' no_proxy='*' LC_ALL=C.UTF-8

[ "${BENCH_BUILD:-1}" = 0 ] || dotnet build src/Dfs.AppHost/Dfs.AppHost.csproj -c Release -nologo -v:q -clp:ErrorsOnly
mkdir -p "$root/artifacts"
work=$(mktemp -d "$root/artifacts/s3-tools.XXXXXX")
state="$work/state"
apphost_pid=
nginx_pid=
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  if [ -n "$apphost_pid" ]; then
    kill -TERM "$apphost_pid" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$apphost_pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Seconds the command took (it must succeed).
seconds() { local start=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $start" | bc -l; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

log "starting the cluster (local profile) in $state"
dotnet src/Dfs.AppHost/bin/Release/net10.0/Dfs.AppHost.dll --profile local --state-dir "$state" --no-dashboard >"$work/apphost.log" 2>&1 &
apphost_pid=$!
for _ in $(seq 180); do grep -q '^Cluster file:' "$work/apphost.log" && break; kill -0 $apphost_pid || { cat "$work/apphost.log" >&2; exit 1; }; sleep 1; done
dfs="$state/bin/dfs"
export DFS_STATE_DIR="$state"
"$dfs" login --user admin </dev/null >/dev/null
key=$("$dfs" user keys create --name bench --json)
export AWS_ACCESS_KEY_ID=$(jq -r .id <<<"$key") AWS_SECRET_ACCESS_KEY=$(jq -r .secret <<<"$key")
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null
printf '[default]\ns3 =\n  addressing_style = path\n' >"$AWS_CONFIG_FILE"
s3=$(jq -r .s3 "$state/cluster.json")
cluster=$(jq -r '[.resources[] | select(.kind == "storage-node" and .state == "Running")] | length' "$state/cluster.json")

log "starting nginx (WebDAV)"
port=$(free_port)
mkdir -p "$work/nginx/www" "$work/nginx/logs"
user=""; [ "$(id -u)" = 0 ] && user="user root root;"
cat >"$work/nginx/nginx.conf" <<EOF
load_module $dav_ext;
$user
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/nginx/body;
  server {
    listen 127.0.0.1:$port;
    root $work/nginx/www;
    location / {
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on;
      client_max_body_size 0;
      autoindex on;
    }
  }
}
EOF
/usr/sbin/nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
webdav="http://127.0.0.1:$port"

export RCLONE_CONFIG="$work/rclone.conf"
cat >"$RCLONE_CONFIG" <<EOF
[dfs]
type = s3
provider = Other
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $s3
region = us-east-1
force_path_style = true

[nginx]
type = webdav
url = $webdav
vendor = other
EOF

log "writing the test data: ${size_mib} MiB and $files files of 4 KiB"
big="$work/big.bin"
head -c $((size_mib * 1048576)) /dev/urandom >"$big"
mkdir -p "$work/small"
for i in $(seq -w 1 "$files"); do head -c 4096 /dev/urandom >"$work/small/f$i.bin"; done
(for f in "$work"/small/*; do echo "put $f /bench-dfs/small-RUN/"; done) >"$work/shell.template"
/usr/bin/aws --endpoint-url "$s3" s3 mb s3://bench >/dev/null
"$dfs" mkdir /bench-dfs >/dev/null

declare -A results
record() { results[$1]+="$2"$'\n'; }
for run in $(seq 1 "$runs"); do
  log "run $run of $runs"
  record aws-up "$(seconds /usr/bin/aws --endpoint-url "$s3" s3 cp --only-show-errors "$big" "s3://bench/big-$run.bin")"
  record aws-down "$(seconds /usr/bin/aws --endpoint-url "$s3" s3 cp --only-show-errors "s3://bench/big-$run.bin" "$work/down.bin")"
  cmp "$big" "$work/down.bin"
  record dfs-up "$(seconds "$dfs" put "$big" "/bench-dfs/big-$run.bin")"
  rm "$work/down.bin"
  record dfs-down "$(seconds "$dfs" get "/bench-dfs/big-$run.bin" "$work/down.bin")"
  cmp "$big" "$work/down.bin"
  record nginx-up "$(seconds curl -sf -T "$big" "$webdav/big-$run.bin")"
  rm "$work/down.bin"
  record nginx-down "$(seconds curl -sf -o "$work/down.bin" "$webdav/big-$run.bin")"
  cmp "$big" "$work/down.bin"
  rm "$work/down.bin"

  record rclone-dfs "$(seconds rclone copy "$work/small" "dfs:bench/small-$run")"
  sed "s/RUN/$run/" "$work/shell.template" >"$work/shell.txt"
  "$dfs" mkdir "/bench-dfs/small-$run" >/dev/null
  record dfs-small "$(seconds "$dfs" shell <"$work/shell.txt")"
  record rclone-nginx "$(seconds rclone copy "$work/small" "nginx:small-$run")"
  [ "$(rclone lsf "dfs:bench/small-$run" | wc -l)" = "$files" ] && [ "$(ls "$work/nginx/www/small-$run" | wc -l)" = "$files" ] &&
    [ "$("$dfs" ls "/bench-dfs/small-$run" | grep -c 'f[0-9]*\.bin')" = "$files" ] || { log "a copy of the small files is incomplete"; exit 1; }
done

mbs() { echo "$size_mib * 1.048576 / $1" | bc -l | xargs printf '%.0f'; }
per_s() { echo "$files / $1" | bc -l | xargs printf '%.0f'; }
row() {
  local name=$1 unit=$2 s3key=$3 dfskey=$4 nginxkey=$5 s3 dfs nginx
  s3=$(median <<<"${results[$s3key]}"); dfs=$(median <<<"${results[$dfskey]}"); nginx=$(median <<<"${results[$nginxkey]}")
  if [ "$unit" = MB/s ]; then
    printf '| %s | %s MB/s (%.1f s) | %s MB/s (%.1f s) | %s MB/s (%.1f s) |\n' "$name" "$(mbs "$s3")" "$s3" "$(mbs "$dfs")" "$dfs" "$(mbs "$nginx")" "$nginx"
  else
    printf '| %s | %s files/s (%.1f s) | %s files/s (%.1f s) | %s files/s (%.1f s) |\n' "$name" "$(per_s "$s3")" "$s3" "$(per_s "$dfs")" "$dfs" "$(per_s "$nginx")" "$nginx"
  fi
}
table=$(
  echo "S3 tools, $(date -u +%Y-%m-%d), median of $runs run(s); cluster: AppHost defaults, local profile, $cluster storage nodes; $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1), $(rclone version | head -1 | cut -d' ' -f2), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3)"
  echo
  echo "| Copy | Dfs S3 API (aws s3 cp / rclone copy) | Dfs API (dfs put / get / shell) | nginx WebDAV (curl / rclone copy) |"
  echo "|---|---|---|---|"
  row "${size_mib} MiB up" MB/s aws-up dfs-up nginx-up
  row "${size_mib} MiB down" MB/s aws-down dfs-down nginx-down
  row "$files × 4 KiB up" files/s rclone-dfs dfs-small rclone-nginx
)
mkdir -p "$root/artifacts/bench"
echo "$table" | tee "$root/artifacts/bench/s3-tools.md"
