#!/usr/bin/env bash
# Drives Dfs's S3 API with the real clients people use, unchanged: Debian's awscli, rclone and s3cmd. Each tool uploads
# a folder of nested keys and a file large enough for its multipart upload, lists, downloads and deletes; every step
# compares bytes and listings with what was sent. Exits non-zero at the first difference.
#
#   DFS_S3_ENDPOINT=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=DFS… AWS_SECRET_ACCESS_KEY=… scripts/s3-clients.sh [WORKDIR]
#
# The key must be allowed to create buckets (an admin's). The buckets it makes (clients-aws, clients-rclone,
# clients-s3cmd) must not exist yet; they are emptied and deleted at the end. DFS_S3_BIG_MIB sets the aws file's size
# (100 MiB by default: 13 parts of 8 MiB).
set -euo pipefail
: "${DFS_S3_ENDPOINT:?the S3 endpoint URL}" "${AWS_ACCESS_KEY_ID:?an access key id}" "${AWS_SECRET_ACCESS_KEY:?its secret}"
big_mib=${DFS_S3_BIG_MIB:-100}
work=${1:-$(mktemp -d)}
mkdir -p "$work"
export LC_ALL=C.UTF-8
# Loopback only: no proxy may see the traffic.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*' no_proxy='*'

step() { echo "-- [${SECONDS}s] $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# Two listings (one "key<TAB>size" a line) must be equal.
same_listing() {
  local what=$1 expected=$2 actual=$3
  if ! diff -u <(sort "$expected") <(sort "$actual") >"$work/listing.diff"; then
    cat "$work/listing.diff" >&2
    fail "$what: the listing differs from what was sent"
  fi
}
local_listing() { (cd "$1" && find . -type f -printf '%P\t%s\n'); }
# grep -q would stop reading early, and with pipefail the listing tool's broken pipe would fail the test.
has() { grep "$@" >/dev/null; }
same_tree() { diff -r "$1" "$2" >&2 || fail "$3: the files differ from what was sent"; }

# The Debian tools by path: a Python aws (v1) earlier on PATH would not be the client under test.
aws=/usr/bin/aws
[ -x "$aws" ] || aws=$(command -v aws) || fail "aws is missing (apt-get install awscli)"
command -v rclone >/dev/null || fail "rclone is missing (apt-get install rclone)"
command -v s3cmd >/dev/null || fail "s3cmd is missing (apt-get install s3cmd)"
echo "$("$aws" --version 2>&1 | head -1); $(rclone version 2>/dev/null | head -1); $(s3cmd --version 2>&1 | head -1)"

# What every tool sends: nested keys, names with spaces and non-ASCII letters, an empty file, sizes around the
# chunk size, and one file over each tool's multipart threshold.
src="$work/src"
rm -rf "$src" && mkdir -p "$src/docs/2024/deep/er" "$src/media" "$src/with space/ünïcødé"
printf 'hello, dfs\n' >"$src/readme.txt"
: >"$src/empty"
head -c 1048576 /dev/urandom >"$src/docs/2024/exactly-1MiB.bin"
head -c 3000001 /dev/urandom >"$src/docs/2024/deep/er/3MB-and-1.bin"
head -c 777 /dev/urandom >"$src/with space/ünïcødé/naïve file.txt"
for i in $(seq 1 20); do head -c $((i * 97)) /dev/urandom >"$src/media/part-$i.dat"; done
big="$work/big.bin"
head -c $((big_mib * 1048576)) /dev/urandom >"$big"
local_listing "$src" >"$work/src.listing"

# ---------------------------------------------------------------------------------------------------------- awscli
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
s3 =
  addressing_style = path
  multipart_threshold = 8MB
  multipart_chunksize = 8MB
EOF
: >"$AWS_SHARED_CREDENTIALS_FILE"
a() { "$aws" --endpoint-url "$DFS_S3_ENDPOINT" "$@"; }
aws_listing() { a s3api list-objects-v2 --bucket "$1" --prefix "$2" --query 'Contents[].[Key,Size]' --output text | sed "s|^$2||" | grep -v '^None$' || true; }

step "aws s3 mb, cp of a ${big_mib} MiB file (multipart) up and down"
a s3 mb s3://clients-aws >/dev/null
a s3 cp --only-show-errors "$big" s3://clients-aws/big/big.bin
etag=$(a s3api head-object --bucket clients-aws --key big/big.bin --query ETag --output text)
parts=$(( (big_mib + 7) / 8 ))
[[ "$etag" == *"-$parts\"" ]] || fail "aws s3 cp: the multipart ETag is $etag, not S3's MD5-of-parts-$parts"
a s3 cp --only-show-errors s3://clients-aws/big/big.bin "$work/aws-big.bin"
cmp "$big" "$work/aws-big.bin" || fail "aws s3 cp: the ${big_mib} MiB file came back different"
rm -f "$work/aws-big.bin"

step "aws s3 sync of a folder with nested keys, both ways"
a s3 sync --only-show-errors "$src" s3://clients-aws/tree
aws_listing clients-aws tree/ >"$work/aws.listing"
same_listing "aws s3 sync up" "$work/src.listing" "$work/aws.listing"
a s3 sync --only-show-errors s3://clients-aws/tree "$work/aws-down"
same_tree "$src" "$work/aws-down" "aws s3 sync down"
again=$(a s3 sync "$src" s3://clients-aws/tree)
[ -z "$again" ] || fail "aws s3 sync sent again what was already there: $again"

step "aws s3 sync sends only a change and deletes with --delete"
printf 'changed\n' >>"$src/docs/2024/exactly-1MiB.bin"
mv "$src/media/part-1.dat" "$work/part-1.dat"
changed=$(a s3 sync --delete "$src" s3://clients-aws/tree)
grep -q 'upload: .*docs/2024/exactly-1MiB.bin' <<<"$changed" || fail "aws s3 sync did not send the changed file: $changed"
grep -q 'delete: s3://clients-aws/tree/media/part-1.dat' <<<"$changed" || fail "aws s3 sync --delete did not delete: $changed"
[ "$(wc -l <<<"$changed")" -eq 2 ] || fail "aws s3 sync did more than the change: $changed"
local_listing "$src" >"$work/src.listing"
aws_listing clients-aws tree/ >"$work/aws.listing"
same_listing "aws s3 sync --delete" "$work/src.listing" "$work/aws.listing"
rm -rf "$work/aws-down"
a s3 sync --only-show-errors s3://clients-aws/tree "$work/aws-down"
same_tree "$src" "$work/aws-down" "aws s3 sync down after the change"
mv "$work/part-1.dat" "$src/media/part-1.dat"
local_listing "$src" >"$work/src.listing"

step "aws s3 rm --recursive, rb"
a s3 rm --only-show-errors --recursive s3://clients-aws
[ -z "$(aws_listing clients-aws '')" ] || fail "aws s3 rm --recursive left objects"
a s3 rb s3://clients-aws >/dev/null
if a s3api head-bucket --bucket clients-aws 2>/dev/null; then fail "aws s3 rb: the bucket is still there"; fi

# ---------------------------------------------------------------------------------------------------------- rclone
export RCLONE_CONFIG="$work/rclone.conf"
cat >"$RCLONE_CONFIG" <<EOF
[dfs]
type = s3
provider = Other
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $DFS_S3_ENDPOINT
region = us-east-1
force_path_style = true
EOF
# A small multipart threshold so the 20 MiB file goes up in parts (rclone keeps its MD5 as x-amz-meta-md5chksum).
# rclone's S3 library refuses a custom CA bundle on a plain-HTTP endpoint: drop the one the environment may name.
r() { env -u AWS_CA_BUNDLE rclone --s3-upload-cutoff 8M --s3-chunk-size 5M --retries 1 --low-level-retries 1 "$@"; }
cp_big() { head -c $((20 * 1048576)) "$big" >"$1/rclone-big.bin"; }
cp_big "$src"

step "rclone copy + check, local to Dfs"
r mkdir dfs:clients-rclone
r copy "$src" dfs:clients-rclone/tree
r check "$src" dfs:clients-rclone/tree || fail "rclone check local → Dfs"
r lsf -R --files-only --format ps --separator $'\t' dfs:clients-rclone/tree >"$work/rclone.listing"
local_listing "$src" >"$work/src.listing"
same_listing "rclone copy up" "$work/src.listing" "$work/rclone.listing"

step "rclone copy + check, Dfs to local"
r copy dfs:clients-rclone/tree "$work/rclone-down"
r check dfs:clients-rclone/tree "$work/rclone-down" || fail "rclone check Dfs → local"
same_tree "$src" "$work/rclone-down" "rclone copy down"

step "rclone: a copy again moves nothing; purge"
moved=$(r copy -v "$src" dfs:clients-rclone/tree 2>&1 | grep -c ': Copied' || true)
[ "$moved" -eq 0 ] || fail "rclone copy sent $moved files that were already there"
r purge dfs:clients-rclone
if r lsd dfs: | has ' clients-rclone$'; then fail "rclone purge: the bucket is still there"; fi
rm "$src/rclone-big.bin"
local_listing "$src" >"$work/src.listing"

# ----------------------------------------------------------------------------------------------------------- s3cmd
hostport=${DFS_S3_ENDPOINT#*://}
hostport=${hostport%/}
use_https=False
[[ "$DFS_S3_ENDPOINT" == https://* ]] && use_https=True
cat >"$work/s3cfg" <<EOF
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $hostport
host_bucket = $hostport
bucket_location = us-east-1
use_https = $use_https
signature_v2 = False
multipart_chunk_size_mb = 5
progress_meter = False
EOF
s() { s3cmd -c "$work/s3cfg" "$@"; }
s3cmd_listing() { s ls -r "s3://clients-s3cmd/$1" | awk -v p="s3://clients-s3cmd/$1" '{ size=$3; sub(/^[^ ]+ +[^ ]+ +[^ ]+ +/, ""); sub("^" p, ""); print $0 "\t" size }'; }

step "s3cmd mb, put (a 12 MiB file in parts and a folder), ls"
head -c $((12 * 1048576)) "$big" >"$work/s3cmd-big.bin"
s mb s3://clients-s3cmd >/dev/null
s put --quiet "$work/s3cmd-big.bin" s3://clients-s3cmd/big/s3cmd-big.bin
s put --quiet --recursive "$src/" s3://clients-s3cmd/tree/
s3cmd_listing tree/ >"$work/s3cmd.listing"
same_listing "s3cmd put --recursive" "$work/src.listing" "$work/s3cmd.listing"
s ls s3:// | has ' s3://clients-s3cmd$' || fail "s3cmd ls does not list the bucket"
s ls s3://clients-s3cmd/ | has 'DIR  *s3://clients-s3cmd/tree/$' || fail "s3cmd ls does not show tree/ as a folder"

step "s3cmd get"
s get --quiet s3://clients-s3cmd/big/s3cmd-big.bin "$work/s3cmd-big.down"
cmp "$work/s3cmd-big.bin" "$work/s3cmd-big.down" || fail "s3cmd get: the 12 MiB file came back different"
mkdir -p "$work/s3cmd-down"
s get --quiet --recursive s3://clients-s3cmd/tree/ "$work/s3cmd-down/"
same_tree "$src" "$work/s3cmd-down" "s3cmd get --recursive"

step "s3cmd del, rb"
s del --quiet s3://clients-s3cmd/big/s3cmd-big.bin
s ls -r s3://clients-s3cmd/big/ | has . && fail "s3cmd del: the object is still listed"
s del --quiet --recursive --force s3://clients-s3cmd/
[ -z "$(s ls -r s3://clients-s3cmd/)" ] || fail "s3cmd del --recursive left objects"
s rb s3://clients-s3cmd >/dev/null
if s ls s3:// | has ' s3://clients-s3cmd$'; then fail "s3cmd rb: the bucket is still there"; fi

echo "s3 clients: aws, rclone and s3cmd passed"
