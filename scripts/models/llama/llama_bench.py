"""llama.cpp baseline for the inference benchmark: greedy decoding of several prompts at once with
real batching in ONE llama.cpp context (llama-cpp-python's low-level API, like llama.cpp's
`batched` example and the server's continuous batching): one llama_batch per step carrying a
token for every live sequence (one seq_id each), one llama_decode per step, n_seq_max = concurrency.

usage: llama_bench.py --model GGUF --prompt-file F --new-tokens N [--concurrency 1,8,16]
                      [--threads T] [--ignore-eos] [--kv-type f16|f32] [--flash-attn auto|on|off]
                      [--print-tokens] [--verbose]

Prints ONE JSON object on stdout (llama.cpp's own log goes nowhere, or to stderr with --verbose).

Prompt file: one prompt per line, already chat-formatted. A line is read as JSON when it parses as
a JSON string (so a prompt can hold newlines: "<|im_start|>user\\nHi<|im_end|>\\n..."), as a list of
token ids (used as is), or as an object with "prompt" (string or ids); any other line is the prompt
text verbatim. Text is tokenized with the model's own tokenizer (special tokens parsed). Request i of
a level gets prompt i modulo the number of prompts.

Per level (a fresh context each, after a one-token warm-up that is not timed): every prompt arrives
at t=0; the prompts are prefilled together (batches of up to n_batch tokens, logits only at each
prompt's last token), then all streams decode together, one token per live stream per step, until
each has N tokens or (unless --ignore-eos) sampled an end-of-generation token (kept, counted).
  ttftMs: level start → that request's first token sampled. doneMs: → its last token sampled.
  decodeTokensPerSecond: tokens produced by the decode steps in which ALL streams of the level were
    still live, over those steps' time (llama_decode + sampling); overallDecodeTokensPerSecond counts
    every decode step. The first token of each stream comes from prefill and is in neither.
peakRssMiB: getrusage(RUSAGE_SELF).ru_maxrss (the mmapped weights count once touched).
"""
import argparse
import ctypes
import glob
import json
import os
import resource
import sys
import time

import llama_cpp as L

GGML_TYPES = {"f32": 0, "f16": 1}
FLASH_ATTN = {"auto": L.LLAMA_FLASH_ATTN_TYPE_AUTO, "off": 0, "on": 1}


def default_threads() -> int:
    """What llama.cpp's tools use by default (common_cpu_get_num_math on x86 Linux): the number of
    physical cores, i.e. distinct thread_siblings sets. (The library's own default is 4.)"""
    siblings = set()
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings"):
        try:
            siblings.add(open(path).read().strip())
        except OSError:
            pass
    return len(siblings) or os.cpu_count() or 1


def read_prompts(path: str) -> list:
    prompts = []
    for line in open(path, encoding="utf-8").read().splitlines():
        if not line.strip():
            continue
        value = line
        if line[0] in '"[{':
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                value = line
        if isinstance(value, dict):
            value = value["prompt"]
        if isinstance(value, list) and not all(isinstance(t, int) for t in value):
            raise SystemExit(f"llama_bench: a prompt line is a list but not of token ids: {line[:80]}")
        prompts.append(value)
    if not prompts:
        raise SystemExit(f"llama_bench: no prompts in {path}")
    return prompts


def tokenize(vocab, text: str) -> list[int]:
    raw = text.encode("utf-8")
    cap = len(raw) + 16
    buf = (L.llama_token * cap)()
    n = L.llama_tokenize(vocab, raw, len(raw), buf, cap, True, True)
    if n < 0:
        cap = -n
        buf = (L.llama_token * cap)()
        n = L.llama_tokenize(vocab, raw, len(raw), buf, cap, True, True)
    if n < 0:
        raise SystemExit("llama_bench: tokenization failed")
    return list(buf[:n])


class Batch:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.batch = L.llama_batch_init(capacity, 0, 1)

    def fill(self, items) -> None:
        """items: (token, pos, seq_id, wants_logits)."""
        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(items):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if logits else 0
        b.n_tokens = len(items)

    def free(self) -> None:
        L.llama_batch_free(self.batch)


def run_level(model, vocab, prompts_tokens, concurrency, args, threads) -> dict:
    requests = [prompts_tokens[i % len(prompts_tokens)] for i in range(concurrency)]
    longest = max(len(p) for p in requests)
    per_seq = -(-(longest + args.new_tokens + 8) // 256) * 256
    params = L.llama_context_default_params()
    params.n_ctx = per_seq * concurrency  # split KV cache: n_ctx / n_seq_max cells per sequence
    params.n_seq_max = concurrency
    params.n_batch = max(params.n_batch, concurrency)
    params.n_threads = threads
    params.n_threads_batch = threads
    params.type_k = params.type_v = GGML_TYPES[args.kv_type]
    params.flash_attn_type = FLASH_ATTN[args.flash_attn]
    params.no_perf = True
    ctx = L.llama_init_from_model(model, params)
    if not ctx:
        raise SystemExit(f"llama_bench: could not create a context (n_ctx {params.n_ctx}, n_seq_max {concurrency})")
    n_batch = params.n_batch
    batch = Batch(n_batch)
    sampler = L.llama_sampler_init_greedy()
    try:
        # Warm-up (as llama.cpp's tools do): one token through the graph, then an empty cache.
        batch.fill([(requests[0][0], 0, 0, True)])
        if L.llama_decode(ctx, batch.batch) != 0:
            raise SystemExit("llama_bench: warm-up decode failed")
        L.llama_memory_clear(L.llama_get_memory(ctx), True)

        generated = [[] for _ in requests]

        def finished(s: int, token: int) -> bool:
            return len(generated[s]) >= args.new_tokens or (not args.ignore_eos and L.llama_vocab_is_eog(vocab, token))

        ttft = [0.0] * concurrency
        done = [0.0] * concurrency
        live = []
        t0 = time.perf_counter()

        # Prefill: every prompt's tokens, packed into batches of n_batch; logits at each last token.
        items = [(tok, pos, s, pos == len(p) - 1) for s, p in enumerate(requests) for pos, tok in enumerate(p)]
        for start in range(0, len(items), n_batch):
            chunk = items[start:start + n_batch]
            batch.fill(chunk)
            rc = L.llama_decode(ctx, batch.batch)
            if rc != 0:
                raise SystemExit(f"llama_bench: prefill llama_decode returned {rc}")
            for i, (_, _, s, wants) in enumerate(chunk):
                if wants:
                    token = L.llama_sampler_sample(sampler, ctx, i)
                    generated[s].append(token)
                    ttft[s] = done[s] = time.perf_counter() - t0
                    if not finished(s, token):
                        live.append(s)
        prefill_end = time.perf_counter() - t0

        together_tokens, together_s, all_tokens, all_s, steps = 0, 0.0, 0, 0.0, 0
        while live:
            step_start = time.perf_counter()
            batch.fill([(generated[s][-1], len(requests[s]) + len(generated[s]) - 1, s, True) for s in live])
            rc = L.llama_decode(ctx, batch.batch)
            if rc != 0:
                raise SystemExit(f"llama_bench: decode step llama_decode returned {rc}")
            still = []
            now = None
            for i, s in enumerate(live):
                token = L.llama_sampler_sample(sampler, ctx, i)
                generated[s].append(token)
                now = time.perf_counter()
                done[s] = now - t0
                if not finished(s, token):
                    still.append(s)
            took = now - step_start
            steps += 1
            all_tokens += len(live)
            all_s += took
            if len(live) == concurrency:
                together_tokens += len(live)
                together_s += took
            live = still
        wall = time.perf_counter() - t0

        level = {
            "concurrency": concurrency,
            "nCtx": L.llama_n_ctx(ctx),
            "wallMs": round(wall * 1000, 3),
            "prefillMs": round(prefill_end * 1000, 3),
            "promptTokensTotal": sum(len(p) for p in requests),
            "decodeSteps": steps,
            "decodeTokensTogether": together_tokens,
            "decodeTokensPerSecond": round(together_tokens / together_s, 3) if together_s > 0 else None,
            "overallDecodeTokensPerSecond": round(all_tokens / all_s, 3) if all_s > 0 else None,
            "requests": [
                {
                    "promptTokens": len(requests[s]),
                    "completionTokens": len(generated[s]),
                    "ttftMs": round(ttft[s] * 1000, 3),
                    "doneMs": round(done[s] * 1000, 3),
                    **({"tokens": generated[s]} if args.print_tokens else {}),
                }
                for s in range(concurrency)
            ],
            "peakRssMiBSoFar": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        return level
    finally:
        L.llama_sampler_free(sampler)
        batch.free()
        L.llama_free(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt-file", required=True)
    parser.add_argument("--new-tokens", type=int, required=True)
    parser.add_argument("--concurrency", default="1,8,16", help="comma-separated levels")
    parser.add_argument("--threads", type=int, default=None, help="default: llama.cpp's (physical cores)")
    parser.add_argument("--ignore-eos", action="store_true", help="always decode --new-tokens tokens")
    parser.add_argument("--kv-type", choices=sorted(GGML_TYPES), default="f16", help="KV cache type (llama.cpp default f16)")
    parser.add_argument("--flash-attn", choices=sorted(FLASH_ATTN), default="auto")
    parser.add_argument("--print-tokens", action="store_true", help="add each request's generated token ids")
    parser.add_argument("--verbose", action="store_true", help="let llama.cpp log to stderr")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.new_tokens < 1 or not levels or min(levels) < 1:
        raise SystemExit("llama_bench: --new-tokens and every --concurrency level must be >= 1")
    threads = args.threads or default_threads()

    if not args.verbose:
        quiet = L.llama_log_callback(lambda level, text, user: None)
        L.llama_log_set(quiet, ctypes.c_void_p())
        main.quiet = quiet  # the callback must outlive every llama.cpp call
    L.llama_backend_init()
    started = time.perf_counter()
    mparams = L.llama_model_default_params()
    mparams.n_gpu_layers = 0
    model = L.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        raise SystemExit(f"llama_bench: could not load {args.model}")
    load_ms = (time.perf_counter() - started) * 1000
    vocab = L.llama_model_get_vocab(model)
    try:
        prompts = read_prompts(args.prompt_file)
        prompts_tokens = [p if isinstance(p, list) else tokenize(vocab, p) for p in prompts]
        desc = ctypes.create_string_buffer(256)
        L.llama_model_desc(model, desc, len(desc))
        result = {
            "engine": "llama.cpp",
            "llamaCppPython": L.__version__,
            "model": os.path.abspath(args.model),
            "modelDesc": desc.value.decode(),
            "modelSizeBytes": L.llama_model_size(model),
            "threads": threads,
            "kvType": args.kv_type,
            "flashAttn": args.flash_attn,
            "newTokens": args.new_tokens,
            "ignoreEos": args.ignore_eos,
            "loadMs": round(load_ms, 3),
            "systemInfo": L.llama_print_system_info().decode().strip(),
            "levels": [run_level(model, vocab, prompts_tokens, c, args, threads) for c in levels],
        }
        result["peakRssMiB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        L.llama_model_free(model)
        L.llama_backend_free()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
