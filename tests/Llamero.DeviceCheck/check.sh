#!/usr/bin/env bash
# Runs on the lent machine, from the root of the copied working tree, with .device/ carried (make-bundle.sh):
# the CPU's features, the SIMD-dependent tests on every level that CPU supports, each repacked layout's kernels
# at its best level and at AVX2, and TinyLlama beside llama.cpp on two pinned cores. Everything lands in $OUT.
# Usage: bash .device/check.sh [test filter prefix]...
set -u
root=$PWD
x=$root/.device/x
mkdir -p "$x" ../shared
tar -xJf .device/runtime.tar.xz -C "$x" && tar -xJf .device/app.tar.xz -C "$x"
ln -sfn "$x/models" ../shared/models
export DOTNET_ROOT=$x/dotnet PATH=$x/dotnet:$PATH LLAMERO_SHARED_MODELS=$x/models DOTNET_CLI_TELEMETRY_OPTOUT=1
{ lscpu | grep -E 'Model name|^CPU\(s\)|L2|L3'; grep -o 'avx512[a-z_0-9]*\|avx_vnni\|amx[a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; } | tee "$OUT/cpu.txt"
cd "$x/app"
filters=()
for f in "${@:-Llamero.Tests.Quants Llamero.Tests.Kernels Llamero.Tests.Quantization Llamero.Tests.Models Llamero.Tests.Oracle Llamero.Tests.Evaluation}"; do
  for g in $f; do filters+=(--filter "$g"); done
done
echo "== tests"
timeout 200 dotnet Llamero.DeviceCheck.dll --parallel "$(nproc)" "${filters[@]}" 2>&1 | tee "$OUT/tests.log" | grep -E '^FAIL|passed' | head -40
echo "== kernels, best level"; timeout 60 taskset -c 2 dotnet Llamero.Benchmarks.dll interleaved 2 2>&1 | tee "$OUT/interleaved-best.txt" | grep -E 'x8 \(|x \(' | head -30
echo "== kernels, AVX2"; LLAMERO_SIMD=Avx2 timeout 60 taskset -c 2 dotnet Llamero.Benchmarks.dll interleaved 2 2>&1 | tee "$OUT/interleaved-avx2.txt" | grep -E 'x8 \(|x \(' | head -30
echo "== side by side"
TMPDIR=/tmp timeout "${SIDE_BY_SIDE_SECONDS:-200}" taskset -c 0,1 dotnet Llamero.Benchmarks.dll side-by-side --shapes tinyllama-1.1b \
  --mixes "${MIXES:-Q4_K_M,Q6_K,Q8_0}" --threads 1,2 --pp 128 --tg 16 --reps 1 --rounds 1 2>&1 | tee "$OUT/side-by-side.txt" | grep '^|' | tail -30
