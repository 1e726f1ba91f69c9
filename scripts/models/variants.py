"""Makes the ONNX variants onnx-community publishes for a model, from its onnx/model.onnx, with
ONNX Runtime's own tools: model_fp16 (float16 weights, inputs and outputs), model_int8 and
model_uint8 (dynamic int8/uint8 weights), model_quantized (as model_uint8), model_q4 (MatMulNBits,
4-bit blocks of 32), model_q4f16 (model_fp16 with MatMulNBits), model_bnb4 (MatMulBnb4, NF4).

usage: variants.py MODEL_DIR VARIANT...   (writes MODEL_DIR/onnx/VARIANT.onnx for each)
"""
import logging
import os
import sys
import tempfile
import warnings

import onnx
from onnxconverter_common import float16
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_bnb4_quantizer import MatMulBnb4Quantizer
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer


def fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    # keep_io_types=False: past/present KV and logits in float16, as onnx-community's model_fp16.
    # The rotary angles stay float32, as fp16 exports compute them: positions times inverse
    # frequencies (fed by a Cast of position ids to float), then Cos and Sin; float16 is not even
    # exact for integers past 2048.
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    to_float = [n for n in model.graph.node if n.op_type == "Cast" and any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for a in n.attribute)]
    keep, frontier = {n.name for n in to_float}, [o for n in to_float for o in n.output]
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if node.name in keep:
                continue
            keep.add(node.name)
            if node.op_type not in ("Cos", "Sin"):
                frontier.extend(node.output)
    return float16.convert_float_to_float16(model, keep_io_types=False, node_block_list=sorted(keep))


def nbits(model: onnx.ModelProto) -> onnx.ModelProto:
    quantizer = MatMulNBitsQuantizer(model, block_size=32, is_symmetric=True)
    quantizer.process()
    return quantizer.model.model


def bnb4(model: onnx.ModelProto) -> onnx.ModelProto:
    quantizer = MatMulBnb4Quantizer(model, quant_type=MatMulBnb4Quantizer.NF4, block_size=32)
    quantizer.process()
    return quantizer.model.model


def untied(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with a Gemm's weight copied when a Gather shares it (tied embeddings): the dynamic
    quantizer turns Gemm(transB) into MatMul by transposing the weight in place, which would leave
    the embedding lookup reading a transposed table."""
    gathered = {n.input[0] for n in model.graph.node if n.op_type == "Gather"}
    initializers = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Gemm" and node.input[1] in gathered and node.input[1] in initializers:
            copy = onnx.TensorProto()
            copy.CopyFrom(initializers[node.input[1]])
            copy.name = f"{node.input[1]}.untied"
            model.graph.initializer.append(copy)
            node.input[1] = copy.name
    return model


def dynamic(source: str, target: str, weight_type: QuantType) -> None:
    with tempfile.TemporaryDirectory() as work:
        separate = os.path.join(work, "model.onnx")
        onnx.save(untied(onnx.load(source)), separate)
        quantize_dynamic(separate, target, weight_type=weight_type)


def main() -> None:
    # The quantizers log every node, the fp16 converter warns of each constant it rounds, and the
    # dynamic quantizer suggests a pre-processing these small graphs do not need.
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    model_dir, variants = sys.argv[1], sys.argv[2:]
    onnx_dir = os.path.join(model_dir, "onnx")
    source = os.path.join(onnx_dir, "model.onnx")
    base = onnx.load(source)
    for variant in variants:
        target = os.path.join(onnx_dir, f"{variant}.onnx")
        if variant == "model_fp16":
            onnx.save(fp16(base), target)
        elif variant == "model_q4":
            onnx.save(nbits(onnx.load(source)), target)
        elif variant == "model_q4f16":
            onnx.save(nbits(fp16(onnx.load(source))), target)
        elif variant == "model_bnb4":
            onnx.save(bnb4(onnx.load(source)), target)
        elif variant in ("model_int8", "model_uint8", "model_quantized"):
            dynamic(source, target, QuantType.QInt8 if variant == "model_int8" else QuantType.QUInt8)
        else:
            sys.exit(f"unknown variant {variant}")
        print(target)


if __name__ == "__main__":
    main()
