"""Plain ONNX Runtime baseline of the inference benchmark: a Python greedy loop over one session,
no engine. Every request of a level arrives at t=0; their prompts (token ids) are prefilled in one
left-padded batch, then all decode together, one token each per step, the KV cache passed back in
as `past` each step (the onnx-community contract: concat attention, past/present tensors).

usage: ort_bench.py MODEL_DIR --prompts F --new-tokens N --concurrency 1,8 [--variant model]
  F: a JSON list of prompts, each a list of token ids; request i of a level gets prompt i mod len.
Prints one JSON object: per level, per request {promptTokens, completionTokens, ttftMs, doneMs},
the level's wallMs and decodeTokensPerSecond (tokens of the steps where all streams decode, over
those steps' time), and peakRssMiB. EOS is ignored: every request decodes N tokens.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--new-tokens", type=int, required=True)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--variant", default="model")
    args = parser.parse_args()

    config = json.load(open(os.path.join(args.model_dir, "config.json")))
    layers = config["num_hidden_layers"]
    heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(os.path.join(args.model_dir, "onnx", f"{args.variant}.onnx"), options, providers=["CPUExecutionProvider"])
    declared = {i.name for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    prompts = json.load(open(args.prompts))

    def step(tokens, mask, positions, past):
        feeds = {"input_ids": tokens, "attention_mask": mask, "position_ids": positions, **past}
        result = dict(zip(outputs, session.run(None, {k: v for k, v in feeds.items() if k in declared})))
        past = {f"past_key_values.{l}.{kind}": result[f"present.{l}.{kind}"] for l in range(layers) for kind in ("key", "value")}
        return result["logits"][:, -1].astype(np.float32), past

    levels = []
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        batch = [prompts[i % len(prompts)] for i in range(concurrency)]
        width = max(len(p) for p in batch)
        started = time.perf_counter()
        tokens = np.array([[0] * (width - len(p)) + p for p in batch], np.int64)
        mask = np.array([[0] * (width - len(p)) + [1] * len(p) for p in batch], np.int64)
        positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
        past = {f"past_key_values.{l}.{kind}": np.zeros((concurrency, heads, 0, head_dim), np.float32) for l in range(layers) for kind in ("key", "value")}
        logits, past = step(tokens, mask, positions, past)
        ttft = (time.perf_counter() - started) * 1000
        next_tokens = logits.argmax(axis=1)
        decode_started = time.perf_counter()
        for _ in range(args.new_tokens - 1):
            positions = mask.sum(axis=1, keepdims=True)
            mask = np.concatenate([mask, np.ones((concurrency, 1), np.int64)], axis=1)
            logits, past = step(next_tokens[:, None].astype(np.int64), mask, positions, past)
            next_tokens = logits.argmax(axis=1)
        done = (time.perf_counter() - started) * 1000
        decode_seconds = time.perf_counter() - decode_started
        levels.append(
            {
                "concurrency": concurrency,
                "wallMs": done,
                "decodeTokensPerSecond": concurrency * (args.new_tokens - 1) / decode_seconds if args.new_tokens > 1 else None,
                "requests": [{"promptTokens": len(p), "completionTokens": args.new_tokens, "ttftMs": ttft, "doneMs": done} for p in batch],
            }
        )
    print(json.dumps({"levels": levels, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
