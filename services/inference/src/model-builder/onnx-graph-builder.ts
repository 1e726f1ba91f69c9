/**
 * A small typed builder for ONNX graphs. It produces a plain-data `GraphDescription` (no weight bytes), which
 * `serializeModel` turns into an ONNX ModelProto whose weights point at external data written elsewhere.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
/** ONNX Runtime's contrib operators (GroupQueryAttention). */
export const MS_DOMAIN = 'com.microsoft';

export type ElementType = 'float32' | 'int64' | 'int32' | 'bool';
/** A fixed size, or a symbolic name for a dynamic axis. */
export type Dim = number | string;

export interface ValueSpec {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly Dim[];
}

/** How a weight's values are drawn; generated at write time so the description stays small. */
export type WeightInit =
  | { readonly kind: 'normal'; readonly mean: number; readonly std: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number };

export interface WeightSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly init: WeightInit;
  /**
   * A fused projection [in, sum of columns]: each part's columns drawn as the separate weight of
   * that name would be, side by side, so a fused build is the separate build's model.
   */
  readonly parts?: readonly WeightPart[];
}

export interface WeightPart {
  readonly name: string;
  readonly columns: number;
  readonly init: WeightInit;
}

/**
 * A projection stored for MatMulNBits: `${name}_q` (uint8 codes [n, kBlocks, blob]) and
 * `${name}_scales` (float [n * kBlocks]), see quantize-blocks.ts. Its float values are drawn as the
 * float graph's weight `source` would be (same name, dims and init), so a quantized build is the
 * float build's model, quantized.
 */
export interface QuantizedWeightSpec {
  readonly name: string;
  /** Outputs (N) and inputs (K). */
  readonly n: number;
  readonly k: number;
  readonly bits: 4 | 8;
  readonly blockSize: number;
  /** `in-out`: the source is stored [K, N] (pre-transposed projections); `out-in`: [N, K] (embeddings). */
  readonly source: WeightSpec & { readonly layout: 'in-out' | 'out-in' };
}

/** Small tensors (shapes, scalars, rotary frequencies) stored inline in the model file. */
export interface ConstantSpec {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

/** A number is an INT attribute; a FLOAT one is spelled `{ float: x }` (1.0 must not become INT 1). */
export type AttributeValue = number | readonly number[] | string | { readonly float: number };

export interface NodeSpec {
  readonly name: string;
  readonly opType: string;
  /** Unset: the ONNX standard domain. */
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface GraphDescription {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly constants: readonly ConstantSpec[];
  readonly weights: readonly WeightSpec[];
  readonly quantizedWeights: readonly QuantizedWeightSpec[];
}

/** Where a weight's bytes live, relative to the model file's directory. */
export interface ExternalLocation {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export interface OpOptions {
  /** Explicit output names (e.g. graph outputs); otherwise fresh names are generated. */
  readonly outputs?: readonly string[];
  /** Number of outputs when names are generated. */
  readonly outputCount?: number;
  /** With outputCount: optional outputs (by index) left out, their names empty. */
  readonly omit?: readonly number[];
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  readonly domain?: string;
}

export class GraphBuilder {
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly nodes: NodeSpec[] = [];
  private readonly constants: ConstantSpec[] = [];
  private readonly weights: WeightSpec[] = [];
  private readonly quantizedWeights: QuantizedWeightSpec[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constantCache = new Map<string, string>();
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, type: ElementType, dims: readonly Dim[]): void {
    this.outputs.push({ name, type, dims });
  }

  weight(name: string, dims: readonly number[], init: WeightInit, parts?: readonly WeightPart[]): string {
    this.claim(name);
    this.weights.push({ name, dims, init, ...(parts && { parts }) });
    return name;
  }

  /** Registers a MatMulNBits weight; returns its codes' and scales' initializer names. */
  quantizedWeight(spec: QuantizedWeightSpec): { codes: string; scales: string } {
    const codes = this.claim(`${spec.name}_q`);
    const scales = this.claim(`${spec.name}_scales`);
    this.quantizedWeights.push(spec);
    return { codes, scales };
  }

  /** Inline constant; identical constants are shared. */
  constant(type: 'float32' | 'int64', dims: readonly number[], values: readonly number[], hint = 'const'): string {
    const key = `${type}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.fresh(hint);
    this.constants.push({ name, type, dims, values });
    this.constantCache.set(key, name);
    return name;
  }

  int64s(values: readonly number[], hint = 'ints'): string {
    return this.constant('int64', [values.length], values, hint);
  }

  int64Scalar(value: number, hint = 'int'): string {
    return this.constant('int64', [], [value], hint);
  }

  floatScalar(value: number, hint = 'float'): string {
    return this.constant('float32', [], [value], hint);
  }

  /** Adds a node with one output and returns its name. */
  op(opType: string, inputs: readonly string[], options: OpOptions = {}): string {
    const [first] = this.opN(opType, inputs, options);
    if (first === undefined) throw new Error(`${opType} produced no outputs`);
    return first;
  }

  opN(opType: string, inputs: readonly string[], options: OpOptions = {}): string[] {
    const outputs = options.outputs
      ? options.outputs.map((n) => this.claim(n))
      : Array.from({ length: options.outputCount ?? 1 }, (_, i) => (options.omit?.includes(i) ? '' : this.fresh(opType)));
    this.nodes.push({
      name: `${opType}_${this.nodes.length}`,
      opType,
      ...(options.domain ? { domain: options.domain } : {}),
      inputs,
      outputs,
      attributes: options.attributes ?? {},
    });
    return outputs;
  }

  build(): GraphDescription {
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      nodes: [...this.nodes],
      constants: [...this.constants],
      weights: [...this.weights],
      quantizedWeights: [...this.quantizedWeights],
    };
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`duplicate value name ${name}`);
    this.usedNames.add(name);
    return name;
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `/${hint}_${this.counter++}`;
    while (this.usedNames.has(name));
    return this.claim(name);
  }
}

const ELEMENT_TYPE: Record<ElementType, onnxProto.onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

function valueInfo(spec: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE[spec.type],
        shape: { dim: spec.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: only integer attributes are supported`);
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

function constantTensor(spec: ConstantSpec): onnxProto.onnx.ITensorProto {
  const bytes =
    spec.type === 'float32'
      ? new Uint8Array(Float32Array.from(spec.values).buffer)
      : new Uint8Array(BigInt64Array.from(spec.values, (v) => BigInt(v)).buffer);
  return { name: spec.name, dataType: ELEMENT_TYPE[spec.type], dims: [...spec.dims], rawData: bytes };
}

function externalTensor(
  spec: { readonly name: string; readonly dims: readonly number[] },
  location: ExternalLocation,
  dataType: onnxProto.onnx.TensorProto.DataType = onnx.TensorProto.DataType.FLOAT,
): onnxProto.onnx.ITensorProto {
  return {
    name: spec.name,
    dataType,
    dims: [...spec.dims],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location.file },
      { key: 'offset', value: String(location.offset) },
      { key: 'length', value: String(location.length) },
    ],
  };
}

/** The stored tensors of a MatMulNBits weight, as named in the graph. */
export function quantizedTensors(spec: QuantizedWeightSpec): { codes: { name: string; dims: number[] }; scales: { name: string; dims: number[] } } {
  const blocks = Math.ceil(spec.k / spec.blockSize);
  return {
    codes: { name: `${spec.name}_q`, dims: [spec.n, blocks, (spec.blockSize * spec.bits) / 8] },
    scales: { name: `${spec.name}_scales`, dims: [spec.n * blocks] },
  };
}

/** Encodes the graph as an ONNX model whose weights all live in external data files. */
export function serializeModel(
  graph: GraphDescription,
  locations: ReadonlyMap<string, ExternalLocation>,
  producerVersion: string,
): Uint8Array {
  const located = (name: string) => {
    const location = locations.get(name);
    if (!location) throw new Error(`no external data location for weight ${name}`);
    return location;
  };
  const initializer = [
    ...graph.weights.map((w) => externalTensor(w, located(w.name))),
    ...graph.quantizedWeights.flatMap((q) => {
      const { codes, scales } = quantizedTensors(q);
      return [externalTensor(codes, located(codes.name), onnx.TensorProto.DataType.UINT8), externalTensor(scales, located(scales.name))];
    }),
    ...graph.constants.map(constantTensor),
  ];
  const usesMs = graph.nodes.some((n) => n.domain === MS_DOMAIN);
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }, ...(usesMs ? [{ domain: MS_DOMAIN, version: 1 }] : [])],
    producerName: 'freechat-model-builder',
    producerVersion,
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        ...(n.domain ? { domain: n.domain } : {}),
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Element count of a weight, as stored (float32). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
