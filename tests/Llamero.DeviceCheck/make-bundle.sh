#!/usr/bin/env bash
# Packs what check.sh needs on a machine with no .NET SDK into .device/ at the repository root (git-ignored there):
#   runtime.tar.xz  the .NET runtime of this machine (NETCore + AspNetCore) and the small shared test models,
#                   made once (about 35 MB, a few minutes of xz);
#   app.tar.xz      Llamero.Tests with this runner, and the benchmarks, built from the working tree (remade each call).
# Usage: tests/Llamero.DeviceCheck/make-bundle.sh [--runtime]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.device
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"
grep -qx '/.device/' "$(git -C "$root" rev-parse --git-common-dir)/info/exclude" 2>/dev/null \
  || echo '/.device/' >> "$(git -C "$root" rev-parse --git-common-dir)/info/exclude"

if [[ "${1:-}" == "--runtime" || ! -f "$out/runtime.tar.xz" ]]; then
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  mkdir -p "$stage/dotnet/shared" "$stage/models"
  cp -r "$dotnet_root/dotnet" "$dotnet_root/host" "$stage/dotnet/"
  cp -r "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$stage/dotnet/shared/"
  # The debugger's libraries and createdump are not needed to run.
  find "$stage/dotnet/shared" \( -name 'libmscordaccore.so' -o -name 'libmscordbi.so' -o -name createdump \) -delete
  shared=$root/../shared/models
  cp -r "$shared/README.md" "$shared/stories260K" "$shared/llama-cpp-vocab" "$shared/llama2-tiny-random" "$shared/llama2c" "$stage/models/"
  tar -cf - -C "$stage" dotnet models | xz -9 -T0 > "$out/runtime.tar.xz"
  rm -rf "$stage/dotnet" "$stage/models"
fi

dotnet build "$root/tests/Llamero.DeviceCheck" -c Release -warnaserror >/dev/null
dotnet build "$root/benchmarks/Llamero.Benchmarks" -c Release -warnaserror >/dev/null
mkdir -p "$stage/app"
cp -r "$root/benchmarks/Llamero.Benchmarks/bin/Release/net10.0/." "$stage/app/"
cp -r "$root/tests/Llamero.DeviceCheck/bin/Release/net10.0/." "$stage/app/"
# Only x86-64 Linux runs there, and llama.cpp's avx2/avx512 builds are the ones it can pick.
(cd "$stage/app" && rm -rf runtimes/linux-arm64 runtimes/linux-musl-x64 runtimes/osx-* runtimes/win-* \
  runtimes/linux-x64/native/noavx runtimes/linux-x64/native/avx runtimes/linux-x64/native/libcapstone.so \
  cs de es fr it ja ko pl pt-BR ru tr zh-Hans zh-Hant && find . -name '*.pdb' -delete)
tar -cf - -C "$stage" app | xz -6 -T0 > "$out/app.tar.xz"
cp "$root/tests/Llamero.DeviceCheck/check.sh" "$out/check.sh"
du -h "$out"/*.tar.xz
