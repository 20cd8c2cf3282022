#!/usr/bin/env bash
# Regenerates tests/golden/*.json with the Python PyTorch reference (needs Debian's
# python3-torch: `apt-get install python3-torch`). The tests read these files; CI never runs
# Python. Each file is the reference's output plus the "epochs" and "lr" it was run with.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
reference=${FITREEL_REFERENCE:-$here/../shared/reference/seed_reference.py}
out=$here/tests/golden
python=${PYTHON:-/usr/bin/python3}
mkdir -p "$out"

golden() {  # name demo seed points epochs lr
  local name=$1 demo=$2 seed=$3 points=$4 epochs=$5 lr=$6
  "$python" "$reference" "$demo" --seed "$seed" --points "$points" --epochs "$epochs" --lr "$lr" |
    "$python" -c 'import json, sys
d = json.load(sys.stdin)
d.update(epochs=int(sys.argv[1]), lr=float(sys.argv[2]))
for k in ("train_seconds", "total_seconds"):
    d.pop(k, None)
json.dump(d, sys.stdout, indent=1)
print()' "$epochs" "$lr" >"$out/$name.json"
  echo "wrote ${out#$here/}/$name.json"
}

# Beyond the seed (scripts/reference_extended.py, same contract): wider nets, other
# activations and optimizers.
extended() {  # name demo args...
  local name=$1
  shift
  "$python" "$here/scripts/reference_extended.py" "$@" >"$out/$name.json"
  echo "wrote ${out#$here/}/$name.json"
}
adam_goldens() {
  extended net-h8-4-tanh-adam net --seed 1 --points 60 --epochs 2000 --lr 0.01 --hidden 8,4 --activation tanh --optimizer adam
  extended line-adam line --seed 6 --points 40 --epochs 2000 --lr 0.05 --optimizer adam
}
# PyTorch 2.x's Adam moves exp_avg by lerp (1.13's: mul, then add), so Python 2.x (Debian 13's
# python3-torch) writes the Adam goldens again into tests/golden/pytorch2/, which builds against
# LibTorch 2.x read instead; everything else is the same in both.
if [ "$("$python" -c 'import torch; print(torch.__version__.split(".")[0])')" -ge 2 ]; then
  out=$here/tests/golden/pytorch2
  mkdir -p "$out"
  adam_goldens
  exit 0
fi
# The seed's settings (these equal ../shared/reference/golden/*-seed0.json).
golden line-seed0 line 0 100 30000 0.01
golden net-seed0 net 0 100 10000 0.1
# Other seeds, sizes, lengths and rates.
golden line-seed7 line 7 50 5000 0.05
golden line-seed123 line 123 9 2000 1.5
golden net-seed3 net 3 40 3000 0.2
golden net-seed42 net 42 7 1500 0.01

adam_goldens
extended net-h5-relu-sgd net --seed 2 --points 30 --epochs 1500 --lr 0.0001 --hidden 5 --activation relu --optimizer sgd
extended net-h16-sigmoid-adagrad net --seed 4 --points 100 --epochs 1000 --lr 0.1 --hidden 16 --activation sigmoid
extended line-sgd line --seed 5 --points 100 --epochs 3000 --lr 0.0001 --optimizer sgd
