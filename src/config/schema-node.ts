/**
 * A typed builder for the config schema. Each function returns the plain JSON Schema node that
 * `sluice schema` prints and validate.ts walks, while its static type keeps every literal (enum
 * values, required names, which fields have defaults), so that `Infer` can compute the validated
 * config's TypeScript type from the same value: one source, no drift between schema and types.
 */
export interface SchemaNode {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: false | SchemaNode;
  readonly propertyNames?: { readonly pattern: string };
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly minItems?: number;
  readonly enum?: readonly (string | number | boolean)[];
  readonly const?: string | number | boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly anyOf?: readonly SchemaNode[];
  readonly default?: unknown;
  /** A secret (JSON Schema's writeOnly): problems with it never quote its value. */
  readonly writeOnly?: boolean;
}

// Option types use readonly arrays: a `const` type parameter falls back to wide inference when its
// constraint holds a mutable array, and the literals are what Infer needs.
interface Annotated<D> {
  readonly description?: string;
  readonly default?: D;
}

export interface StringOpts extends Annotated<string> {
  readonly enum?: readonly string[];
  readonly const?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A secret: problems with it never quote its value. */
  readonly writeOnly?: boolean;
}

export interface NumberOpts extends Annotated<number> {
  readonly enum?: readonly number[];
  readonly const?: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface BooleanOpts extends Annotated<boolean> {
  readonly const?: boolean;
}

export interface ArrayOpts extends Annotated<readonly unknown[]> {
  readonly minItems?: number;
}

/** `required` may only name declared properties: a typo is a compile error, not a silent no-op. */
export interface ObjectOpts<K extends string> extends Annotated<object> {
  readonly additionalProperties?: false;
  readonly required?: readonly K[];
}

export interface RecordOpts extends Annotated<object> {
  readonly propertyNames?: { readonly pattern: string };
}

type Props = { readonly [name: string]: SchemaNode };
type Enumerable = string | number | boolean;

export function string<const O extends StringOpts = {}>(opts?: O): { readonly type: 'string' } & O {
  return { type: 'string', ...opts } as { readonly type: 'string' } & O;
}

export function integer<const O extends NumberOpts = {}>(opts?: O): { readonly type: 'integer' } & O {
  return { type: 'integer', ...opts } as { readonly type: 'integer' } & O;
}

export function number<const O extends NumberOpts = {}>(opts?: O): { readonly type: 'number' } & O {
  return { type: 'number', ...opts } as { readonly type: 'number' } & O;
}

export function boolean<const O extends BooleanOpts = {}>(opts?: O): { readonly type: 'boolean' } & O {
  return { type: 'boolean', ...opts } as { readonly type: 'boolean' } & O;
}

/** An untyped `enum` node: a list of literals that mixes strings and numbers. */
export function enumOf<const E extends readonly Enumerable[], const O extends Annotated<E[number]> = {}>(values: E, opts?: O): { readonly enum: E } & O {
  return { enum: values, ...opts } as { readonly enum: E } & O;
}

/** minItems is placed before items, where the published schema has always had it. */
export function array<const I extends SchemaNode, const O extends ArrayOpts = {}>(items: I, opts?: O): { readonly type: 'array'; readonly items: I } & O {
  const { minItems, ...rest } = (opts ?? {}) as ArrayOpts;
  return { type: 'array', ...(minItems === undefined ? {} : { minItems }), items, ...rest } as { readonly type: 'array'; readonly items: I } & O;
}

export function object<const P extends Props, const O extends ObjectOpts<keyof P & string> = {}>(
  properties: P,
  opts?: O,
): { readonly type: 'object'; readonly properties: P } & O {
  return { type: 'object', ...opts, properties } as { readonly type: 'object'; readonly properties: P } & O;
}

/** A map with free keys (constrained by propertyNames) whose values all follow `values`. */
export function record<const V extends SchemaNode, const O extends RecordOpts = {}>(
  values: V,
  opts?: O,
): { readonly type: 'object'; readonly additionalProperties: V } & O {
  return { type: 'object', ...opts, additionalProperties: values } as { readonly type: 'object'; readonly additionalProperties: V } & O;
}

export function anyOf<const A extends readonly SchemaNode[], const O extends Annotated<unknown> = {}>(alternatives: A, opts?: O): { readonly anyOf: A } & O {
  return { anyOf: alternatives, ...opts } as { readonly anyOf: A } & O;
}

/**
 * The TypeScript type of a value that passed validateAndDefault against schema S. A property with a
 * default is never absent afterwards (validate.ts fills it in), so it is required like a `required` one.
 */
export type Infer<S> = S extends { readonly anyOf: readonly (infer A)[] }
  ? Infer<A>
  : S extends { readonly const: infer C }
    ? C
    : S extends { readonly enum: readonly (infer E)[] }
      ? E
      : S extends { readonly type: 'string' }
        ? string
        : S extends { readonly type: 'integer' | 'number' }
          ? number
          : S extends { readonly type: 'boolean' }
            ? boolean
            : S extends { readonly type: 'array'; readonly items: infer I }
              ? readonly Infer<I>[]
              : S extends { readonly properties: infer P }
                ? InferObject<P, RequiredNames<S>>
                : S extends { readonly additionalProperties: infer V extends object }
                  ? Readonly<Record<string, Infer<V>>>
                  : unknown;

type RequiredNames<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type DefaultedNames<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type AlwaysThere<P, R> = Extract<keyof P, R> | DefaultedNames<P>;

type InferObject<P, R> = Flatten<
  { readonly [K in keyof P as K extends AlwaysThere<P, R> ? K : never]: Infer<P[K]> } & {
    readonly [K in keyof P as K extends AlwaysThere<P, R> ? never : K]?: Infer<P[K]>;
  }
>;

/** One object type instead of an intersection, so hovers and type errors read like the old interfaces. */
type Flatten<T> = { [K in keyof T]: T[K] } & {};
