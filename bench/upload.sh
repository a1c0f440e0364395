#!/usr/bin/env bash
# Upload throughput to a local radosgw (tests/integration/data/radosgw.sh) for one file:
# storage/'s single PUT, its parallel multipart upload, and `curl -T` to the same server,
# each timed and charged its own CPU (bench/measure.py): MB/s and CPU ms per MB.
# Env: BENCH_MB (file size, default 200), BENCH_PART_MB (default 8), BENCH_PARALLEL
# (default 4). Prints a table and a `RESULT {json}` line; never fails on a timing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$src/tests/integration/data/radosgw.sh"
upload=$build/tests/tools/rr-upload
need "$upload"
mb=${BENCH_MB:-200}
part_mb=${BENCH_PART_MB:-8}
parallel=${BENCH_PARALLEL:-4}

rgw_start
rgw_curl -X PUT -o /dev/null "$rgw_url/bench"
head -c $((mb * 1000000)) /dev/urandom >"$work/file.bin"
export ROOMREC_S3_SECRET=$rgw_secret_key
up=("$upload" --endpoint "$rgw_url" --bucket bench --access-key "$rgw_access_key" --path-style)
bytes=$((mb * 1000000))

run() { # run NAME CMD...: measure, then check the object came back whole
  local name=$1
  shift
  python3 "$measure" --stdout "$work/$name.out" --stderr "$work/$name.err" -- "$@" >"$work/$name.m.json"
  [ "$(jq .exit "$work/$name.m.json")" = 0 ] || { echo "$name failed: $(tail -3 "$work/$name.err")"; exit 1; }
  local size
  size=$(rgw_curl -I "$rgw_url/bench/$name.bin" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p')
  [ "$size" = "$bytes" ] || { echo "$name: stored $size bytes, not $bytes"; exit 1; }
}
run single "${up[@]}" --multipart-threshold $((bytes + 1)) --key single.bin "$work/file.bin"
run multipart "${up[@]}" --multipart-threshold 1 --part-size $((part_mb * 1048576)) --parallel "$parallel" \
  --key multipart.bin "$work/file.bin"
run curl curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$rgw_access_key:$rgw_secret_key" \
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/file.bin" "$rgw_url/bench/curl.bin"

printf '%-28s %9s %9s %14s\n' "upload of $mb MB" "wall s" "MB/s" "CPU ms per MB"
json="{\"mb\":$mb"
for n in single multipart curl; do
  read -r wall cpu < <(jq -r '"\(.wall_s) \(.cpu_s)"' "$work/$n.m.json")
  rate=$(python3 -c "print(f'{$mb / $wall:.1f}')")
  cpu_mb=$(python3 -c "print(f'{$cpu * 1000 / $mb:.2f}')")
  label=$n
  [ $n = multipart ] && label="multipart ${part_mb} MiB x$parallel"
  [ $n = curl ] && label="curl -T"
  printf '%-28s %9s %9s %14s\n' "$label" "$wall" "$rate" "$cpu_mb"
  json+=",\"$n\":{\"wall_s\":$wall,\"mb_per_s\":$rate,\"cpu_ms_per_mb\":$cpu_mb}"
done
echo "RESULT $json}"
echo "(the server runs on the same machine: its CPU competes with the uploader's)"
rgw_stop
