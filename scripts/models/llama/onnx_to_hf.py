"""Writes a Hugging Face-format Qwen3 checkpoint from one of our ONNX model directories, so that
llama.cpp's own converter (convert_hf_to_gguf.py) can read the very weights our engine runs.

usage: onnx_to_hf.py MODEL_DIR OUT_DIR [--variant model]

MODEL_DIR is the Hugging Face ONNX layout the model builder writes: config.json,
generation_config.json, tokenizer files, onnx/<variant>.onnx with external data. OUT_DIR gets
config.json (architectures Qwen3ForCausalLM, torch_dtype float32), generation_config.json, the
tokenizer files and model.safetensors with HF names and orientation: the ONNX graph stores the
projections pre-transposed as [in, out] under a `_t` suffix; HF stores them [out, in]. With tied
embeddings (config.tie_word_embeddings) there is no lm_head.weight, as in HF.

Only the graph's initializers are read (the operators, GroupQueryAttention or not, do not matter).
Memory stays around one tensor: external data is memory-mapped, and model.safetensors is written
tensor by tensor (its header is computed first from the shapes).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import onnx

# ONNX TensorProto data types this script accepts → (numpy dtype, safetensors dtype).
DTYPES = {
    onnx.TensorProto.FLOAT: (np.float32, "F32"),
    onnx.TensorProto.FLOAT16: (np.float16, "F16"),
}
TOKENIZER_FILES = [
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json",
]


def fail(message: str) -> None:
    print(f"onnx_to_hf: {message}", file=sys.stderr)
    sys.exit(1)


def expected_names(config: dict) -> list[str]:
    """HF tensor names of a Qwen3ForCausalLM checkpoint, in HF's order."""
    names = ["model.embed_tokens.weight"]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}"
        names += [
            f"{p}.input_layernorm.weight",
            f"{p}.self_attn.q_proj.weight", f"{p}.self_attn.k_proj.weight",
            f"{p}.self_attn.v_proj.weight", f"{p}.self_attn.o_proj.weight",
            f"{p}.self_attn.q_norm.weight", f"{p}.self_attn.k_norm.weight",
            f"{p}.post_attention_layernorm.weight",
            f"{p}.mlp.gate_proj.weight", f"{p}.mlp.up_proj.weight", f"{p}.mlp.down_proj.weight",
        ]
    names.append("model.norm.weight")
    if not config.get("tie_word_embeddings", False):
        names.append("lm_head.weight")
    return names


class Initializers:
    """The weight initializers of an ONNX file: name → (ONNX name, shape, dtype, loader)."""

    def __init__(self, onnx_path: str):
        self.base = os.path.dirname(onnx_path)
        self.maps: dict[str, np.memmap] = {}
        model = onnx.load(onnx_path, load_external_data=False)
        self.tensors = {t.name: t for t in model.graph.initializer}

    def _file(self, location: str) -> np.memmap:
        if location not in self.maps:
            path = os.path.normpath(os.path.join(self.base, location))
            self.maps[location] = np.memmap(path, dtype=np.uint8, mode="r")
        return self.maps[location]

    def load(self, name: str) -> np.ndarray:
        """The tensor as stored in ONNX (memory-mapped when external)."""
        t = self.tensors[name]
        if t.data_type not in DTYPES:
            fail(f"{name}: unsupported ONNX data type {onnx.TensorProto.DataType.Name(t.data_type)}")
        dtype = np.dtype(DTYPES[t.data_type][0])
        shape = tuple(t.dims)
        count = int(np.prod(shape, dtype=np.int64))
        if t.data_location == onnx.TensorProto.EXTERNAL:
            ext = {e.key: e.value for e in t.external_data}
            offset = int(ext.get("offset", 0))
            length = int(ext.get("length", count * dtype.itemsize))
            if length != count * dtype.itemsize:
                fail(f"{name}: external length {length} != {count} x {dtype.itemsize} bytes")
            data = self._file(ext["location"])[offset:offset + length]
            return data.view(dtype).reshape(shape)
        if t.raw_data:
            return np.frombuffer(t.raw_data, dtype=dtype).reshape(shape)
        if t.data_type == onnx.TensorProto.FLOAT and len(t.float_data) == count:
            return np.array(t.float_data, dtype=np.float32).reshape(shape)
        fail(f"{name}: no data")
        raise AssertionError

    def dtype_of(self, name: str) -> int:
        return self.tensors[name].data_type

    def shape_of(self, name: str) -> tuple[int, ...]:
        return tuple(self.tensors[name].dims)


def plan(config: dict, inits: Initializers) -> list[tuple[str, str, bool, tuple[int, ...]]]:
    """(HF name, ONNX name, transpose?, HF shape) for every tensor of the checkpoint."""
    hidden = config["hidden_size"]
    head_dim = config.get("head_dim") or hidden // config["num_attention_heads"]
    q_out = config["num_attention_heads"] * head_dim
    kv_out = config["num_key_value_heads"] * head_dim
    inter = config["intermediate_size"]
    vocab = config["vocab_size"]
    want = {
        "embed_tokens": (vocab, hidden), "lm_head": (vocab, hidden), "norm": (hidden,),
        "input_layernorm": (hidden,), "post_attention_layernorm": (hidden,),
        "q_norm": (head_dim,), "k_norm": (head_dim,),
        "q_proj": (q_out, hidden), "k_proj": (kv_out, hidden), "v_proj": (kv_out, hidden),
        "o_proj": (hidden, q_out), "gate_proj": (inter, hidden), "up_proj": (inter, hidden),
        "down_proj": (hidden, inter),
    }
    out = []
    for hf in expected_names(config):
        if hf in inits.tensors:
            onnx_name, transpose = hf, False
        elif hf + "_t" in inits.tensors:
            onnx_name, transpose = hf + "_t", True
        else:
            fail(f"the ONNX graph has no initializer {hf} (nor {hf}_t)")
        stored = inits.shape_of(onnx_name)
        shape = tuple(reversed(stored)) if transpose else stored
        expected = want[hf.split(".")[-2]]
        if shape != expected:
            fail(f"{onnx_name}: shape {stored} gives {shape} in HF orientation, config says {expected}")
        out.append((hf, onnx_name, transpose, shape))
    return out


def write_safetensors(path: str, entries, inits: Initializers) -> int:
    """Streams the tensors into a safetensors file; returns its size. Format: u64 header size,
    JSON header (name → dtype, shape, [begin, end) of the data section), then the data."""
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for hf, onnx_name, _, shape in entries:
        np_dtype, st_dtype = DTYPES[inits.dtype_of(onnx_name)]
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(np_dtype).itemsize
        header[hf] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data section starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _hf, onnx_name, transpose, _shape in entries:
            data = inits.load(onnx_name)
            if transpose:
                data = data.T
            # Little-endian, C order; transposed weights are copied in row blocks to bound memory.
            rows = max(1, (64 << 20) // max(1, data[0:1].nbytes))
            for start in range(0, data.shape[0], rows):
                f.write(np.ascontiguousarray(data[start:start + rows]).astype(data.dtype.newbyteorder("<"), copy=False).tobytes())
    os.replace(tmp, path)
    return 8 + len(raw) + offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--variant", default="model", help="ONNX file name under onnx/, without .onnx")
    args = parser.parse_args()

    config_path = os.path.join(args.model_dir, "config.json")
    onnx_path = os.path.join(args.model_dir, "onnx", f"{args.variant}.onnx")
    for p in (config_path, onnx_path):
        if not os.path.isfile(p):
            fail(f"missing {p}")
    config = json.load(open(config_path))
    if config.get("model_type", "qwen3") != "qwen3":
        fail(f"model_type is {config.get('model_type')!r}, expected qwen3")

    inits = Initializers(onnx_path)
    entries = plan(config, inits)
    os.makedirs(args.out_dir, exist_ok=True)
    size = write_safetensors(os.path.join(args.out_dir, "model.safetensors"), entries, inits)

    dtypes = {inits.dtype_of(e[1]) for e in entries}
    config = {k: v for k, v in config.items() if k != "transformers.js_config"}
    config["architectures"] = ["Qwen3ForCausalLM"]
    config["model_type"] = "qwen3"
    config["torch_dtype"] = "float32" if dtypes == {onnx.TensorProto.FLOAT} else "float16"
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    copied = []
    for name in ["generation_config.json", *TOKENIZER_FILES]:
        src = os.path.join(args.model_dir, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(args.out_dir, name))
            copied.append(name)
    if "tokenizer.json" not in copied:
        fail(f"{args.model_dir} has no tokenizer.json")
    print(f"onnx_to_hf: wrote {len(entries)} tensors ({size / 2**20:.1f} MiB) and {', '.join(copied)} to {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
