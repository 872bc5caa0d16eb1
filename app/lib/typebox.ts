/**
 * The TypeBox builders the app's schemas use, as one `Type` object of named imports; import
 * `Type` from here, types (`Static`, `TSchema` …) from 'typebox'.
 *
 * Why not `import { Type } from 'typebox'`: that is a namespace object of every TypeBox export
 * (type engine, script parser …), which a bundler must keep whole: ~70 kB of the Lambda's
 * cold-start code, parsed at every cold start. Named imports leave only the builders used.
 * `Record` is a local equivalent for string keys: TypeBox's own pulls in its template-literal
 * engine and script parser to work out key patterns. It produces the same JSON Schema
 * (`patternProperties` `^.*$`) and the same static type.
 */
import {
  Array as TypeArray,
  Boolean as TypeBoolean,
  Integer,
  Literal,
  Null,
  Number as TypeNumber,
  Object as TypeObject,
  Optional,
  String as TypeString,
  Union,
  Unknown,
  Unsafe,
  type Static,
  type TSchema,
  type TString,
  type TUnsafe,
} from 'typebox'

/** `Type.Record(Type.String(), value)`: an object whose every property is `value`. */
function Record<V extends TSchema>(_key: TString, value: V): TUnsafe<{ [key: string]: Static<V> }> {
  return Unsafe<{ [key: string]: Static<V> }>({ type: 'object', patternProperties: { '^.*$': value } })
}

export const Type = {
  Array: TypeArray,
  Boolean: TypeBoolean,
  Integer,
  Literal,
  Null,
  Number: TypeNumber,
  Object: TypeObject,
  Optional,
  Record,
  String: TypeString,
  Union,
  Unknown,
  Unsafe,
} as const
