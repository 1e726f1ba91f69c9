#!/usr/bin/env bash
# usage: to_gguf.sh HF_DIR OUT_DIR
# Converts a Hugging Face Qwen3 checkpoint (onnx_to_hf.py's output) to GGUF with llama.cpp's OWN
# converter (convert_hf_to_gguf.py from the llama-cpp-python sdist, kept in the venv by
# ensure-llama.sh): OUT_DIR/model-f32.gguf and model-f16.gguf, then quantizes the f32 file with
# llama.cpp's quantizer (llama_model_quantize, as `llama-quantize` does) to model-q8_0.gguf and
# model-q4_0.gguf. HF_DIR may also be one of our ONNX model directories (onnx/model.onnx): it is
# then first converted into OUT_DIR/hf with onnx_to_hf.py.
# A file newer than its inputs is kept (a second run does nothing); each is written aside and moved.
# Q4_0 is llama.cpp's standard recipe: without a separate lm_head the tied token embedding is
# stored Q6_K (when its row length is a multiple of 256, else a fallback type), other 2D weights Q4_0,
# norms f32. LLAMA_QUANT_PURE=1 makes Q8_0/Q4_0 files use that type for every 2D weight.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../infra/lib.sh"
if [ $# -ne 2 ]; then echo "usage: $0 HF_DIR OUT_DIR" >&2; exit 2; fi
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)

PY=$("$HERE/ensure-llama.sh")
VENV=$(dirname "$(dirname "$PY")")
CONVERT="$VENV/llama.cpp/convert_hf_to_gguf.py"
[ -f "$CONVERT" ] || { log "no $CONVERT: remove $VENV and run ensure-llama.sh again"; exit 1; }

# fresh OUT IN...: OUT exists and is newer than every existing IN.
fresh() {
  local out=$1 in; shift
  [ -s "$out" ] || return 1
  for in; do [ ! -e "$in" ] || [ "$out" -nt "$in" ] || return 1; done
}

HF=$SRC
if [ ! -f "$SRC/model.safetensors" ] && [ -f "$SRC/onnx/model.onnx" ]; then
  HF="$OUT/hf"
  if ! fresh "$HF/model.safetensors" "$SRC"/onnx/model.onnx* "$SRC/config.json"; then
    started=$SECONDS
    "$PY" "$HERE/onnx_to_hf.py" "$SRC" "$HF"
    log "onnx_to_hf: $((SECONDS - started)) s"
  fi
fi
[ -f "$HF/model.safetensors" ] || { log "$HF has no model.safetensors"; exit 1; }
NAME=$(basename "$SRC")

for type in f32 f16; do
  target="$OUT/model-$type.gguf"
  fresh "$target" "$HF/model.safetensors" "$HF/config.json" "$HF/tokenizer.json" && continue
  started=$SECONDS
  rm -f "$target.tmp"
  # Its log (tensor list, the chat template) goes to a file; shown when it fails.
  if ! "$PY" "$CONVERT" "$HF" --outtype "$type" --outfile "$target.tmp" --model-name "$NAME" >"$target.log" 2>&1; then
    tail -n 30 "$target.log" >&2
    log "convert_hf_to_gguf.py --outtype $type failed (log: $target.log)"
    rm -f "$target.tmp"
    exit 1
  fi
  mv -f "$target.tmp" "$target"
  rm -f "$target.log"
  log "model-$type.gguf: $((SECONDS - started)) s"
done

for type in q8_0 q4_0; do
  target="$OUT/model-$type.gguf"
  fresh "$target" "$OUT/model-f32.gguf" && continue
  started=$SECONDS
  rm -f "$target.tmp"
  "$PY" - "$OUT/model-f32.gguf" "$target.tmp" "$type" "${LLAMA_QUANT_PURE:-0}" <<'EOF'
import ctypes, os, sys
import llama_cpp as L
src, dst, kind, pure = sys.argv[1:5]
L.llama_log_set(quiet := L.llama_log_callback(lambda level, text, user: None), ctypes.c_void_p())
L.llama_backend_init()
params = L.llama_model_quantize_default_params()
params.ftype = {"q8_0": L.LLAMA_FTYPE_MOSTLY_Q8_0, "q4_0": L.LLAMA_FTYPE_MOSTLY_Q4_0}[kind]
params.nthread = os.cpu_count() or 1
params.pure = pure == "1"
rc = L.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
sys.exit(f"llama_model_quantize {kind} returned {rc}" if rc != 0 else 0)
EOF
  mv -f "$target.tmp" "$target"
  log "model-$type.gguf: $((SECONDS - started)) s"
done
ls -l "$OUT"/model-*.gguf >&2
