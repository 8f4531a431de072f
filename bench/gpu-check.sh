#!/usr/bin/env bash
# The device check for a lent NVIDIA machine (no Node there): the fused and the generic WebGPU step,
# whole reference epochs both ways, and the kernel table, in one short script (≈3–5 minutes on an H100).
# Here, from the repository root, once:
#   bash ../shared/tools/gpu-bundle.sh bench/train.js bench/fused-gpu.ts bench/kernels.js
# There (the device tool's `run`, carry [".gpu"], timeout ≈ 420 s):
#   bash .gpu/setup.sh && export PATH=/tmp/gpu-node:$PATH && bash bench/gpu-check.sh
# Results go to $OUT (the device tool's folder that comes back), else /tmp/gpu-check. QUICK=1 shrinks
# every part (a rehearsal on a software adapter).
set -u
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
steps=938 epochs=3 kernels=(--big --no-tfjs)
if [ "${QUICK:-}" = 1 ]; then steps=20 epochs=1 kernels=(--quick --no-tfjs --no-cpu); fi
run() { echo "== $*"; "$@" 2>&1 | grep -v '^Warning: ' | tee -a "$out/log.txt"; }
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee "$out/gpu.txt"
run node .gpu/fused-gpu.mjs --steps "$steps" --rounds 2
run node .gpu/fused-gpu.mjs --steps "$steps" --rounds 2 --record
run node .gpu/train.mjs --device webgpu --epochs "$epochs" --no-analysis --no-report --out "$out/fused"
run node .gpu/train.mjs --device webgpu --epochs 1 --no-analysis --no-report --no-fused --out "$out/generic"
run node .gpu/kernels.mjs "${kernels[@]}" --out "$out/kernels.json"
echo "results in $out"
