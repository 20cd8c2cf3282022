#!/usr/bin/env bash
# The scale table: fitreel against Python PyTorch from the seed's size to 100000 points, one
# model and 32 at once, on a quiet machine and then on a busy one. Not a test: it prints a table
# and exits 0. Every row: a 1-H-1 tanh net, Adagrad lr 0.01, MSE, full batch, x = y = 0..N-1;
# each measurement runs at least 2 s and 20 epochs (a short pilot sizes it; the epochs are
# printed). The Python side alone takes ~25 min: an epoch of 32 nets on 100000 points in vmap
# takes seconds. µs per model-epoch, from the runs' own train_seconds.
#   - one model: the Python loop (scripts/bench_scale.py) and `fitreel net --kernels fused`
#     (the fused single path; the seed demos default to the exact one);
#   - 32 models: functorch's vmap(grad) ensemble and `fitreel sweep net --seeds 0..31`;
#   - "1 thr" columns run both sides on one thread (torch.set_num_threads(1), --threads 1);
#     "default" leaves the thread count to each program.
#   - busy: the same fitreel runs beside one `yes >/dev/null`, then beside a 720p x264 encode
#     (ffmpeg), the median of 5; the ratio default / one thread is what a busy machine costs
#     the default.
#   scripts/bench_scale.sh [FITREEL_EXE]     (default build/release/app/fitreel)
# FITREEL_SCALE_ROWS=100x2,1600x16 picks rows; FITREEL_SCALE_SECONDS=2 the least time per run;
# FITREEL_SCALE_PYTHON=0 leaves out the Python columns (~25 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
fitreel=${1:-build/release/app/fitreel}
python=${PYTHON:-/usr/bin/python3}
rows=${FITREEL_SCALE_ROWS:-100x2,1600x16,10000x64,100000x16}
min_seconds=${FITREEL_SCALE_SECONDS:-2}
work=$(mktemp -d)
load_pid=
cleanup() {
  [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# fitreel_rate LABEL N H THREADS(0: default) MODELS: a JSON line with µs per model-epoch.
fitreel_rate() {
  local label=$1 n=$2 h=$3 threads=$4 models=$5 epochs=20 seconds
  local args=(--hidden "$h" --activation tanh --optimizer adagrad --points "$n" --video none -q
    --out "$work/out")
  [ "$threads" = 0 ] || args+=(--threads "$threads")
  run() {
    if [ "$models" = 1 ]; then
      "$fitreel" net "${args[@]}" --kernels fused --lr 0.01 --epochs "$1" >/dev/null
      "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_seconds"])' \
        "$work/out/net/summary.json"
    else
      "$fitreel" sweep net "${args[@]}" --seeds "0..$((models - 1))" --lrs 0.01 \
        --epochs "$1" >/dev/null
      "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_seconds"])' \
        "$work/out/sweep-net/sweep.json"
    fi
  }
  # A pilot of 20 epochs, then longer runs until one lasts min_seconds: a short pilot's time is
  # mostly start-up, and sizing from it alone left the fastest rows at a tenth of the goal.
  seconds=$(run $epochs)
  for _ in 1 2 3 4; do
    "$python" -c "import sys; sys.exit($seconds >= $min_seconds)" || break
    epochs=$("$python" -c "import math; print(max(20, math.ceil($epochs * $min_seconds / max($seconds, 1e-9) * 1.1)))")
    seconds=$(run "$epochs")
  done
  "$python" -c "import json; print(json.dumps({'n': $n, 'h': $h, 'way': '$label', 'threads': $threads,
    'models': $models, 'epochs': $epochs, 'us_per_model_epoch': $seconds * 1e6 / ($models * $epochs)}))"
}

fitreel_rows() {  # fitreel_rows CONDITION: every fitreel measurement, tagged with CONDITION
  local row n h threads
  for row in ${rows//,/ }; do
    n=${row%x*} h=${row#*x}
    for threads in 1 0; do
      fitreel_rate fitreel_net "$n" "$h" "$threads" 1 | sed "s/^{/{\"condition\": \"$1\", /"
      fitreel_rate fitreel_batched "$n" "$h" "$threads" 32 | sed "s/^{/{\"condition\": \"$1\", /"
    done
  done
}

echo "== scale table: quiet machine (Python and fitreel, one after the other)" >&2
if [ "${FITREEL_SCALE_PYTHON:-1}" = 0 ]; then
  echo "(FITREEL_SCALE_PYTHON=0: fitreel's columns only)" >&2
else
  "$python" scripts/bench_scale.py --rows "$rows" --threads 1,0 --min-seconds "$min_seconds" |
    sed 's/^{/{"condition": "quiet", /' >"$work/rows.jsonl" 2>/dev/null ||
    echo "(no Python PyTorch with functorch: fitreel's columns only)" >&2
fi
fitreel_rows quiet >>"$work/rows.jsonl"

for busy in yes encode; do
  echo "== scale table: busy machine ($busy beside it), 5 runs each" >&2
  if [ $busy = yes ]; then
    yes >/dev/null &
  else
    command -v ffmpeg >/dev/null || { echo "(no ffmpeg: no encode row)" >&2; continue; }
    ffmpeg -loglevel error -re -f lavfi -i testsrc2=size=1280x720:rate=30 -c:v libx264 \
      -preset medium -f null - </dev/null &
  fi
  load_pid=$!
  for _ in 1 2 3 4 5; do fitreel_rows "busy-$busy" >>"$work/rows.jsonl"; done
  kill "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=
done

"$python" - "$work/rows.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]

def us(condition, way, n, h, threads):
    found = [r for r in rows if (r["condition"], r["way"], r["n"], r["h"], r["threads"]) ==
             (condition, way, n, h, threads)]
    if not found:
        return None, None
    return statistics.median(r["us_per_model_epoch"] for r in found), found[0]["epochs"]

def cell(value):
    return f"{value[0]:10.2f}" if value[0] is not None else f"{'-':>10}"

def ratio(a, b):
    return f"{a[0] / b[0]:7.1f}x" if a[0] is not None and b[0] is not None else f"{'-':>8}"

sizes = sorted({(r["n"], r["h"]) for r in rows})
print("µs per model-epoch, 1-H-1 tanh net, Adagrad lr 0.01, full batch; quiet machine")
print(f"{'N':>7} {'H':>3} | {'py loop 1thr':>12} {'fitreel 1thr':>12} {'ratio':>8} "
      f"{'fitreel dflt':>12} | {'vmap 1thr':>10} {'batched 1thr':>12} {'ratio':>8} "
      f"{'batched dflt':>12} | epochs (py, fitreel, vmap, batched)")
for n, h in sizes:
    loop, net1, netd = (us("quiet", w, n, h, t) for w, t in
                        (("python_loop", 1), ("fitreel_net", 1), ("fitreel_net", 0)))
    vmap, bat1, batd = (us("quiet", w, n, h, t) for w, t in
                        (("functorch_vmap", 1), ("fitreel_batched", 1), ("fitreel_batched", 0)))
    print(f"{n:7d} {h:3d} | {cell(loop):>12} {cell(net1):>12} {ratio(loop, net1)} {cell(netd):>12} | "
          f"{cell(vmap)} {cell(bat1):>12} {ratio(vmap, bat1)} {cell(batd):>12} | "
          f"{loop[1]}, {net1[1]}, {vmap[1]}, {bat1[1]}")
for condition in ("busy-yes", "busy-encode"):
    if not any(r["condition"] == condition for r in rows):
        continue
    print()
    print(f"{condition}: fitreel's default threads against one thread (median of 5; goal <= 1.1x)")
    print(f"{'N':>7} {'H':>3} | {'net 1thr':>10} {'net dflt':>10} {'dflt/1':>8} | "
          f"{'batched 1thr':>12} {'batched dflt':>12} {'dflt/1':>8}")
    for n, h in sizes:
        net1, netd, bat1, batd = (us(condition, w, n, h, t) for w, t in
                                  (("fitreel_net", 1), ("fitreel_net", 0),
                                   ("fitreel_batched", 1), ("fitreel_batched", 0)))
        print(f"{n:7d} {h:3d} | {cell(net1)} {cell(netd)} {ratio(netd, net1)} | "
              f"{cell(bat1):>12} {cell(batd):>12} {ratio(batd, bat1)}")
PY
