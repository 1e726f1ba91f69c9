"""Greedy decoding with plain ONNX Runtime (no batching, no engine): the reference the inference
engine's output is compared with, on the same file.

usage: ort_greedy.py MODEL_DIR VARIANT MAX_NEW_TOKENS < prompt_ids.json   → JSON token ids
Stops after an EOS of generation_config.json (included) or MAX_NEW_TOKENS tokens.
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort


def main() -> None:
    model_dir, variant, max_new = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prompt = json.load(sys.stdin)
    config = json.load(open(os.path.join(model_dir, "config.json")))
    generation_path = os.path.join(model_dir, "generation_config.json")
    generation = json.load(open(generation_path)) if os.path.exists(generation_path) else {}
    eos = generation.get("eos_token_id", [])
    eos = set(eos if isinstance(eos, list) else [eos])
    layers = config["num_hidden_layers"]
    heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]

    session = ort.InferenceSession(os.path.join(model_dir, "onnx", f"{variant}.onnx"), providers=["CPUExecutionProvider"])
    declared = {i.name: i.type for i in session.get_inputs()}
    kv_type = np.float16 if declared["past_key_values.0.key"] == "tensor(float16)" else np.float32
    past = {f"past_key_values.{l}.{kind}": np.zeros((1, heads, 0, head_dim), kv_type) for l in range(layers) for kind in ("key", "value")}
    outputs = [o.name for o in session.get_outputs()]

    generated, tokens, position = [], list(prompt), 0
    while len(generated) < max_new:
        feeds = {
            "input_ids": np.array([tokens], np.int64),
            "attention_mask": np.ones((1, position + len(tokens)), np.int64),
            "position_ids": np.arange(position, position + len(tokens), dtype=np.int64)[None, :],
            **past,
        }
        result = dict(zip(outputs, session.run(None, {k: v for k, v in feeds.items() if k in declared})))
        token = int(np.argmax(result["logits"][0, -1].astype(np.float32)))
        generated.append(token)
        if token in eos:
            break
        past = {f"past_key_values.{l}.{kind}": result[f"present.{l}.{kind}"] for l in range(layers) for kind in ("key", "value")}
        position += len(tokens)
        tokens = [token]
    json.dump(generated, sys.stdout)


if __name__ == "__main__":
    main()
