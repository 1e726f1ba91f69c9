// Building blocks for the FreeChat schema that stay valid as a Kubernetes *structural* schema: every
// node has a `type`, enums are plain `enum` lists (TypeBox's literal unions become `anyOf`/`const`,
// which a CRD refuses), and CEL rules travel as `x-kubernetes-validations`.
import { Type, type TSchema, type TUnsafe } from 'typebox';

/** A string limited to `values`, typed as their union. */
export function StringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A CEL rule the API server checks on admission, with the message (and field) it answers with. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  /** JSONPath-like field the error names, relative to the schema node (e.g. `.maxReplicas`). */
  readonly fieldPath?: string;
}

export const celRules = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });

/** A Kubernetes resource quantity: `500m`, `2`, `4Gi` (an int or a string, as Kubernetes accepts). */
export const Quantity = (options: { description?: string } = {}) =>
  Type.Unsafe<string | number>({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], ...options });

/** A subtree Kubernetes keeps as given (tolerations, for one: their own schema is Kubernetes'). */
export const Opaque = <T>(type: 'object' | 'array', options: { description?: string } = {}) =>
  Type.Unsafe<T>(type === 'object' ? { type, 'x-kubernetes-preserve-unknown-fields': true, ...options } : { type, items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, ...options });

/** A map of strings (labels, node selectors): `additionalProperties`, the form a CRD accepts. */
export const StringMap = (options: { description?: string } = {}) =>
  Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' }, ...options });

export type { TSchema };
