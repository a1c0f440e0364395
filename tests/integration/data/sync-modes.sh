# The test room timing modes of issue 13 (sourced by tests/integration/sync_modes.sh and
# bench/sync_soak.sh): sync_mode_args MODE prints the room's flags for MODE.
sync_all_modes="clean sr_jitter sr_5s no_sr send_jitter fast_clock"
sync_mode_args() {
  case $1 in
  clean) echo "" ;;
  sr_jitter) echo "-sr-mode send-jitter -sr-jitter 30ms" ;;
  sr_5s) echo "-sr-interval 5s" ;;
  no_sr) echo "-sr-interval 0" ;;
  send_jitter) echo "-send-jitter 40ms -send-hold-every 2s -send-hold-min 100ms -send-hold-max 200ms" ;;
  fast_clock) echo "-clock-ppm 1000" ;;
  *) return 1 ;;
  esac
}
# The rr-analyze arguments for sync.json recordings: a composite (alice fills the frame
# until bob joins, then the left half; bob the right half) or one participant's file.
sync_composite_args="--size 640x360 --flash-luma 200 --sync alice:500:0,0,1,1/0,0,0.5,1 --sync bob:1000:0.5,0,0.5,1"
sync_participant_args() { echo "--size 640x360 --flash-luma 200 --sync $1"; }
