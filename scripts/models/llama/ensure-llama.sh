#!/usr/bin/env bash
# A Python virtual environment for the llama.cpp baseline (see README.md): llama-cpp-python
# compiled here from its PyPI sdist (CPU only, tuned to this CPU), and llama.cpp's own HF→GGUF
# converter (convert_hf_to_gguf.py, from that same sdist, kept in $VENV/llama.cpp) with what it
# imports. Cached in $FREECHAT_CACHE by the hash of requirements.txt, the CMake flags and this CPU's
# flags (a -march=native library must not run on another CPU), built once under a lock.
# Prints its python's path; exits non-zero with a message when it cannot be built.
# Cold: ~7 min on 2 idle cores (412 s measured; 694 s on a busy machine), mostly compiling llama.cpp;
# the venv is ~4.9 GB (torch's CUDA wheels from PyPI, unused: see requirements.txt). Warm: instant.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../infra/lib.sh"
REQUIREMENTS="$HERE/requirements.txt"
# CPU backend only, -march=native (AVX2/AVX-512/FMA/F16C as the CPU has them), OpenMP threads,
# llama.cpp's own matmul kernels (no BLAS); only the libraries the bindings load (no tools, no mtmd).
CMAKE_FLAGS="-DGGML_NATIVE=ON -DGGML_CPU=ON -DGGML_CUDA=OFF -DGGML_HIP=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
-DGGML_SYCL=OFF -DGGML_OPENCL=OFF -DGGML_RPC=OFF -DGGML_BLAS=OFF -DGGML_CCACHE=OFF -DLLAVA_BUILD=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
# On a CPU with AMX, -march=native turns on ggml's AMX kernels for Q4_0/Q8_0 weights, and they
# crash here (SIGSEGV in ggml_backend_amx_mul_mat as soon as a batch has 2+ tokens; upstream
# llama.cpp issue 20824): compiled without AMX, those weights use the AVX-512 repack kernels.
case " $cpu_flags " in
*" amx_int8 "* | *" amx_tile "*)
  no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  CMAKE_FLAGS="$CMAKE_FLAGS -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'" ;;
esac
hash=$({ cat "$REQUIREMENTS"; echo "$CMAKE_FLAGS"; echo "$cpu_flags"; } | sha256sum | cut -c1-12)
VENV="$FREECHAT_CACHE/python-llama-$hash"
BUILD_LOG="$FREECHAT_CACHE/python-llama-$hash.build.log"

apt_install() {
  log "installing $* (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 && return 0
  as_root apt-get update -q >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

build() {
  [ -x "$VENV/bin/python" ] && return 0
  local python
  python=$(command -v python3) || { log "python3 is required"; return 1; }
  local missing=()
  "$python" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  "$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ||
    missing+=(python3-dev)
  command -v cmake >/dev/null || missing+=(cmake)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}" || { log "could not install the build tools: ${missing[*]}"; return 1; }
  fi
  local version
  version=$(sed -n 's/^llama-cpp-python==\([^ ;#]*\).*/\1/p' "$REQUIREMENTS")
  [ -n "$version" ] || { log "requirements.txt pins no llama-cpp-python==VERSION"; return 1; }

  local started=$SECONDS
  log "building the llama.cpp venv (llama-cpp-python $version compiles llama.cpp: ~7-12 min on 2 cores); log: $BUILD_LOG"
  rm -rf "$VENV.tmp"
  : >"$BUILD_LOG"
  "$python" -m venv "$VENV.tmp"
  local py="$VENV.tmp/bin/python"
  mkdir -p "$VENV.tmp/src" "$VENV.tmp/llama.cpp"
  "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    "llama-cpp-python==$version" -d "$VENV.tmp/src" >>"$BUILD_LOG" 2>&1
  local sdist top
  sdist=$(ls "$VENV.tmp/src"/llama_cpp_python-"$version".tar.gz)
  top="llama_cpp_python-$version/vendor/llama.cpp"
  # llama.cpp's converter, with the gguf-py it puts first on sys.path and the chat templates it may read.
  tar -xzf "$sdist" -C "$VENV.tmp/llama.cpp" --strip-components=3 \
    "$top/convert_hf_to_gguf.py" "$top/conversion" "$top/gguf-py" "$top/models/templates" "$top/LICENSE"
  # The sdist file itself is installed (one download); pip's wheel cache keys it by this path,
  # which carries the hash of the flags, so a wheel built with other flags is never reused.
  CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$py" -m pip install --disable-pip-version-check --only-binary=:all: --no-binary=llama-cpp-python \
    -r "$REQUIREMENTS" "$sdist" >>"$BUILD_LOG" 2>&1
  "$py" -c 'import llama_cpp, torch, transformers, onnx, safetensors, sentencepiece, gguf
print(llama_cpp.llama_print_system_info().decode())' >>"$BUILD_LOG" 2>&1
  rm -rf "$VENV.tmp/src"
  # Built aside, then moved (see ../ensure-python.sh): the python finds the venv by its pyvenv.cfg,
  # and llama_cpp's libraries find each other through their $ORIGIN rpath.
  mv "$VENV.tmp" "$VENV"
  local took=$((SECONDS - started))
  log "llama.cpp venv built in $took s"
  printf '%s\t%s\t%d s\t%s\n' "$(date -u +%FT%TZ)" "python-llama (llama-cpp-python $version)" "$took" "$(nproc) cores" \
    >>"$FREECHAT_CACHE/build-times.log"
}

failed() {
  [ -s "$BUILD_LOG" ] && tail -n 40 "$BUILD_LOG" >&2
  log "llama.cpp could not be installed (llama-cpp-python from $REQUIREMENTS); full log: $BUILD_LOG"
  exit 1
}
if [ ! -x "$VENV/bin/python" ]; then
  # Not `build || failed`: on the left of || bash ignores set -e, so a failing step would not stop
  # the build. A failed build leaves $VENV.tmp, removed by the next try.
  set +e
  (set -e; with_lock "python-llama" build)
  status=$?
  set -e
  [ "$status" = 0 ] || failed
fi
echo "$VENV/bin/python"
