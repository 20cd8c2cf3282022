#!/usr/bin/env bash
# Measures fitreel against the Python PyTorch reference (../shared/reference/seed_reference.py)
# on the same settings in the same run, and prints the ratios Python / C++. Not a test: it
# prints a table and exits 0. Install the reference's needs with `scripts/deps.sh --bench`.
#   scripts/bench.sh                 3 repeats of everything, then the scale table
#   scripts/bench.sh scale           the scale table alone (scripts/bench_scale.sh: sizes from the
#                                    seed's to 100000 points, quiet and busy)
#   FITREEL_BENCH_REPEATS=5 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${FITREEL_BENCH_REPEATS:-3}
reference=${FITREEL_REFERENCE:-../shared/reference/seed_reference.py}
python=${PYTHON:-/usr/bin/python3}
epochs_line=10000
epochs_net=10000

bash scripts/build.sh release >/dev/null
fitreel=build/release/app/fitreel
if [ "${1:-}" = scale ]; then
  exec bash scripts/bench_scale.sh "$fitreel"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timed() {  # timed FILE command...: appends "wall_seconds peak_rss_kb" of the command to FILE
  local file=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
  cat "$work/time" >>"$file"
}

echo "== fitreel-bench (training alone, drawing alone, encoding alone, whole run) =="
build/release/app/bench/fitreel-bench --repeats 5 --line-epochs $epochs_line \
  --net-epochs $epochs_net --json "$work/bench.json"

have_torch=no
if [ -f "$reference" ] && "$python" -c 'import torch' 2>/dev/null; then
  have_torch=yes
fi
have_video=no
if [ $have_torch = yes ] && "$python" -c 'import matplotlib' 2>/dev/null && command -v ffmpeg >/dev/null; then
  have_video=yes
fi

echo
echo "== the same settings, $repeats times each: Python reference and fitreel processes =="
for r in $(seq "$repeats"); do
  if [ $have_torch = yes ]; then
    "$python" "$reference" line --epochs $epochs_line --lr 0.01 --seed 0 --points 100 >"$work/py-line-$r.json"
    "$python" "$reference" net --epochs $epochs_net --lr 0.1 --seed 0 --points 100 >"$work/py-net-$r.json"
  fi
  if [ $have_video = yes ]; then
    timed "$work/py-video" "$python" "$reference" net --epochs $epochs_net --lr 0.1 --seed 0 \
      --points 100 --video "$work/reference.mp4" --frames 300
  fi
  # The net demo with its 300-frame 1280x720 MP4, as a user runs it (process start included).
  timed "$work/cpp-video" "$fitreel" net -q --epochs $epochs_net --out "$work/out"
  # What no film can go below: the linear schedule has no measuring pass, and a process that
  # loads LibTorch and stops (Python: import torch) is the start every run pays.
  timed "$work/cpp-video-linear" "$fitreel" net -q --epochs $epochs_net --schedule linear \
    --out "$work/out"
  timed "$work/cpp-start" "$fitreel" --version
  if [ $have_torch = yes ]; then
    timed "$work/py-start" "$python" -c 'import torch'
  fi
  timed "$work/cpp-all" "$fitreel" all -q --out "$work/out"
done
# Many models at once: K = 16 and 64 nets and lines in Python, one after another and as a
# functorch vmap(grad) ensemble; fitreel's batched sweep is in bench.json (train_batched).
if [ $have_torch = yes ]; then
  "$python" scripts/bench_ensemble.py --epochs 1000 --loop-epochs 200 --sizes 16,64 >"$work/ensemble.txt"
fi
# Peak memory is flat in the epochs: a hundred times the epochs, the same RSS (loss.csv streams
# to disk; the losses kept in memory are thinned to a fixed budget). 10^7 line epochs: ~4 min.
timed "$work/cpp-line-1e5" "$fitreel" line -q --epochs 100000 --video none --out "$work/out"
timed "$work/cpp-line-1e7" "$fitreel" line -q --epochs 10000000 --video none --out "$work/out"

python3 - "$work" "$repeats" "$have_torch" "$have_video" <<'PY'
import glob, json, statistics, sys
work, repeats, have_torch, have_video = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes", sys.argv[4] == "yes"

def mmm(values):
    values = sorted(values)
    return values[0], statistics.median(values), values[-1]

def fmt(t, unit=""):
    return f"{t[1]:9.2f}{unit} [{t[0]:.2f}, {t[2]:.2f}]"

def timed(name):
    rows = [line.split() for line in open(f"{work}/{name}") if line.strip()]
    return [float(r[0]) for r in rows], [int(r[1]) / 1024 for r in rows]

bench = json.load(open(f"{work}/bench.json"))
print()
print(f"{'measure':52} {'Python':>26} {'fitreel':>26} {'Python/C++':>11}")
for demo, epochs in (("line", 10000), ("net", 10000)):
    cpp = next(r for r in bench["rows"] if r.get("demo") == demo and r.get("step") == "analytic (default)"
               and r.get("device") == "cpu")["us_per_epoch"]
    cpp_t = (cpp["min"], cpp["median"], cpp["max"])
    if have_torch:
        py = mmm([json.load(open(f))["train_seconds"] * 1e6 / epochs for f in glob.glob(f"{work}/py-{demo}-*.json")])
        print(f"{demo + ': us per training epoch (cpu)':52} {fmt(py):>26} {fmt(cpp_t):>26} {py[1] / cpp_t[1]:10.1f}x")
    else:
        print(f"{demo + ': us per training epoch (cpu)':52} {'(no python3-torch)':>26} {fmt(cpp_t):>26}")
video, rss = timed("cpp-video")
video = mmm(video)
if have_video:
    py_video = mmm(timed("py-video")[0])
    print(f"{'net: 10000 epochs + 300-frame 720p MP4, wall s':52} {fmt(py_video):>26} {fmt(video):>26} {py_video[1] / video[1]:10.1f}x")
else:
    print(f"{'net: 10000 epochs + 300-frame 720p MP4, wall s':52} {'(no matplotlib/ffmpeg)':>26} {fmt(video):>26}")
linear = mmm(timed("cpp-video-linear")[0])
start = mmm(timed("cpp-start")[0])
if have_video:
    print(f"{'  the same, --schedule linear (no measuring pass)':52} {fmt(py_video):>26} {fmt(linear):>26} {py_video[1] / linear[1]:10.1f}x")
else:
    print(f"{'  the same, --schedule linear (no measuring pass)':52} {'':>26} {fmt(linear):>26}")
if have_torch:
    py_start = mmm(timed("py-start")[0])
    print(f"{'process start: import torch / fitreel --version, s':52} {fmt(py_start):>26} {fmt(start):>26} {py_start[1] / start[1]:10.1f}x")
else:
    print(f"{'process start: fitreel --version, s':52} {'':>26} {fmt(start):>26}")
if have_video:
    # The part of a run that fitreel's own code decides: the whole run less the process start.
    print(f"{'  a 12x run would have to end within, s':52} {'':>26} {py_video[1] / 12:9.2f}")
    print(f"{'  net video run less the process start, s':52} {'':>26} {video[1] - start[1]:9.2f}")
for r in bench["rows"]:
    if "overlap_ratio" in r:
        print(f"{r['demo'] + ': run with video / max(train alone, encode alone)':52} {'':>26} {r['overlap_ratio']:9.2f}")
        print(f"{r['demo'] + ': frames/s drawing, encoding, whole run':52} {'':>26} "
              f"{r['drawing_fps']:6.0f} {r['encoding_fps']:6.0f} {r['whole_run_fps']:6.0f}")
print()
print(f"{'many models, us per model-epoch (1000 epochs, CPU)':52} {'Python loop':>12} {'vmap(grad)':>11} "
      f"{'fitreel batched':>16} {'vmap/fitreel':>13} {'loop/fitreel':>13}")
python_rows = {}
if have_torch:
    for line in open(f"{work}/ensemble.txt"):
        demo, k, way, micros = line.split()
        python_rows[(demo, int(k), way)] = float(micros)
for r in bench["rows"]:
    if "batched_models" not in r:
        continue
    demo, k = r["demo"], r["batched_models"]
    ours = r["batched_us_per_model_epoch"]["median"]
    loop = python_rows.get((demo, k, "python_loop"))
    vmap = python_rows.get((demo, k, "functorch_vmap"))
    cells = [f"{loop:12.2f}" if loop else f"{'-':>12}", f"{vmap:11.2f}" if vmap else f"{'-':>11}",
             f"{ours:16.2f}", f"{vmap / ours:12.1f}x" if vmap else f"{'-':>13}",
             f"{loop / ours:12.1f}x" if loop else f"{'-':>13}"]
    print(f"{demo + ', K = ' + str(k):52} " + " ".join(cells))
all_wall, all_rss = timed("cpp-all")
print(f"{'fitreel all with video: peak RSS MB':52} {'':>26} {fmt(mmm(all_rss))}")
print(f"{'fitreel net with video: peak RSS MB':52} {'':>26} {statistics.median(rss):9.0f}")
print(f"{'fitreel line, no video: peak RSS MB, 10^5 / 10^7 epochs':52} {'':>26} "
      f"{timed('cpp-line-1e5')[1][0]:9.0f} / {timed('cpp-line-1e7')[1][0]:.0f}")
PY

echo
echo "== the scale table (scripts/bench_scale.sh) =="
bash scripts/bench_scale.sh "$fitreel"
