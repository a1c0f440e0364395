# A throwaway Ceph cluster with an S3 endpoint (radosgw) on 127.0.0.1, for tests that
# upload to a real S3 server that checks SigV4 signatures. Sourced after lib.sh (it uses
# `work`, `pids` and the EXIT trap there); not a test itself.
#
#   rgw_start            one mon (msgr v2), one memstore OSD, a user with fixed keys, and
#                        radosgw; sets rgw_url, rgw_access_key, rgw_secret_key.
#   rgw_stop_gateway     stops radosgw only (the OSD keeps the data: memstore is RAM)
#   rgw_start_gateway    starts radosgw again and waits until it answers
#   rgw_stop             stops radosgw, the OSD and the mon (also done on exit)
#
# Every daemon runs in the foreground as a child of the test (`-f`), so lib.sh's cleanup
# kills it by pid even when the test fails. Everything lives under $work/ceph.
# Needs the Debian packages ceph-mon ceph-osd radosgw (scripts/setup.sh installs them).

rgw_access_key=RRTESTACCESSKEY0001
rgw_secret_key=rrTestSecretKey0123456789abcdefghijklmnop
rgw_dir=$work/ceph
rgw_url=
rgw_mon_pid=
rgw_osd_pid=
rgw_gw_pid=

# A free TCP port on 127.0.0.1 (the kernel's choice).
rgw_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rgw_require() {
  local t
  for t in ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool ceph; do
    command -v "$t" >/dev/null || {
      echo "SKIP: $t is missing (scripts/setup.sh installs ceph-mon ceph-osd radosgw)"
      exit 77
    }
  done
}

# rgw_wait DESCRIPTION TRIES CMD... — CMD until it succeeds, 0.1 s apart.
rgw_wait() {
  local what=$1 tries=$2
  shift 2
  for _ in $(seq "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "radosgw.sh: $what did not happen; logs in $rgw_dir/log"
  tail -n 20 "$rgw_dir"/log/*.log 2>/dev/null | tail -n 60
  return 1
}

rgw_ceph() { ceph --conf "$rgw_dir/ceph.conf" --connect-timeout 20 "$@"; }

rgw_start() {
  rgw_require
  mkdir -p "$rgw_dir"/{mon,osd,rgw,run,log,crash}
  local mon_port rgw_port osd_base fsid osd_uuid
  mon_port=$(rgw_free_port)
  rgw_port=$(rgw_free_port)
  # The OSD binds a few ports from a range: a random one away from the default 6800+.
  osd_base=$((20000 + RANDOM % 20000))
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$rgw_dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
ms_bind_msgr1 = false
ms_bind_port_min = $osd_base
ms_bind_port_max = $((osd_base + 40))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $rgw_dir/keyring
run_dir = $rgw_dir/run
pid_file = $rgw_dir/run/\$name.pid
admin_socket = $rgw_dir/run/\$name.asok
log_file = $rgw_dir/log/\$name.log
crash_dir = $rgw_dir/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
mon_data = $rgw_dir/mon
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
[osd]
osd_data = $rgw_dir/osd
osd_objectstore = memstore
memstore_device_bytes = 1073741824
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
[client.rgw.test]
rgw_data = $rgw_dir/rgw
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
EOF
  export CEPH_CONF=$rgw_dir/ceph.conf
  local kr=$rgw_dir/keyring
  ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$kr" --gen-key -n osd.0 --cap mon 'allow profile osd' \
    --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
  ceph-authtool "$kr" --gen-key -n client.rgw.test --cap mon 'allow rw' \
    --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
    "$rgw_dir/monmap" >/dev/null
  ceph-mon --conf "$CEPH_CONF" --mkfs -i a --monmap "$rgw_dir/monmap" --keyring "$kr" \
    >"$rgw_dir/log/mkfs-mon.out" 2>&1 || { echo "ceph-mon --mkfs failed"; return 1; }
  ceph-mon --conf "$CEPH_CONF" -f -i a >"$rgw_dir/log/mon.out" 2>&1 &
  rgw_mon_pid=$!
  pids+=("$rgw_mon_pid")
  rgw_wait "the mon answering" 300 rgw_ceph mon stat || return 1
  rgw_ceph osd new "$osd_uuid" 0 >/dev/null || { echo "ceph osd new failed"; return 1; }
  ceph-osd --conf "$CEPH_CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" --keyring "$kr" \
    >"$rgw_dir/log/mkfs-osd.out" 2>&1 || { echo "ceph-osd --mkfs failed"; return 1; }
  ceph-osd --conf "$CEPH_CONF" -f -i 0 >"$rgw_dir/log/osd.out" 2>&1 &
  rgw_osd_pid=$!
  pids+=("$rgw_osd_pid")
  rgw_osd_up() { rgw_ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
  rgw_wait "osd.0 up" 600 rgw_osd_up || return 1
  radosgw-admin --conf "$CEPH_CONF" user create --uid=roomrec --display-name=roomrec \
    --access-key="$rgw_access_key" --secret-key="$rgw_secret_key" \
    >"$rgw_dir/log/user.out" 2>&1 || { echo "radosgw-admin user create failed: $(tail -3 "$rgw_dir/log/user.out")"; return 1; }
  rgw_url=http://127.0.0.1:$rgw_port
  rgw_start_gateway
}

rgw_start_gateway() {
  radosgw --conf "$CEPH_CONF" -f -n client.rgw.test >"$rgw_dir/log/rgw.out" 2>&1 &
  rgw_gw_pid=$!
  pids+=("$rgw_gw_pid")
  rgw_wait "radosgw answering on $rgw_url" 600 curl -s -m 2 -o /dev/null "$rgw_url/"
}

rgw_stop_gateway() {
  [ -n "$rgw_gw_pid" ] || return 0
  kill "$rgw_gw_pid" 2>/dev/null || true
  wait "$rgw_gw_pid" 2>/dev/null || true
  rgw_gw_pid=
}

rgw_stop() {
  local p
  rgw_stop_gateway
  for p in $rgw_osd_pid $rgw_mon_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rgw_osd_pid=
  rgw_mon_pid=
}

# rgw_curl ARGS... — curl signing with the test user's keys (SigV4, path style).
rgw_curl() {
  curl -sS -m 120 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$rgw_access_key:$rgw_secret_key" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# rgw_storage_yaml PREFIX MAX_RETRIES MIN_DELAY MAX_DELAY — a worker config's `storage`
# block for bucket "rec" of this server (PREFIX "" for none).
rgw_storage_yaml() {
  echo "storage:"
  [ -n "$1" ] && echo "  prefix: $1"
  cat <<Y
  s3:
    access_key: $rgw_access_key
    secret: $rgw_secret_key
    endpoint: $rgw_url
    bucket: rec
    region: us-east-1
    force_path_style: true
    max_retries: $2
    min_retry_delay: $3
    max_retry_delay: $4
Y
}

# rgw_check_no_secret FILE... — ok/fail (lib.sh): the test user's secret is in none of them.
rgw_check_no_secret() {
  if grep -lF "$rgw_secret_key" "$@" 2>/dev/null; then
    fail "the S3 secret appears in the files above"
  else
    ok "no S3 secret in the logs or statuses"
  fi
}
