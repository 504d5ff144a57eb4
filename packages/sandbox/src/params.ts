/**
 * Kata's `Param` lists: kernel command-line and hypervisor parameters as key/value pairs, with
 * `SerializeParams` / `DeserializeParams` semantics.
 */
import { z } from 'zod';

/** One parameter. `value: ''` is a bare flag (`quiet`); `key: ''` is a bare value. */
export interface Param {
  readonly key: string;
  readonly value: string;
}

const token = /^[^\s\0]*$/;

/**
 * Schema of one {@link Param}: neither part may hold whitespace or NUL (the command line is split on
 * whitespace, so such a value would silently become two parameters), and the key may not hold `=`
 * (it would not round-trip through {@link deserializeParams}). Kata's `AddKernelParam` rule holds:
 * an empty key is refused (`Empty kernel parameter`).
 */
export const paramSchema: z.ZodType<Param, { key: string; value?: string | undefined }> = z
  .strictObject({
    key: z
      .string()
      .min(1, 'Empty kernel parameter: key must not be empty')
      .regex(token, 'must not contain whitespace or NUL')
      .refine((k) => !k.includes('='), 'must not contain "="'),
    value: z.string().regex(token, 'must not contain whitespace or NUL').default(''),
  })
  .transform((p) => Object.freeze({ key: p.key, value: p.value }));

/**
 * Schema of a parameter list: an array of {@link Param}, or a command-line string that is split on
 * whitespace and read with {@link deserializeParams} (`"quiet console=ttyS0"`).
 */
export const paramsSchema: z.ZodType<readonly Param[], string | readonly { key: string; value?: string }[]> =
  z
    .union([
      z.string().transform((s) => deserializeParams(s.split(/\s+/))),
      z.array(z.unknown()).transform((a) => a),
    ])
    .pipe(z.array(paramSchema))
    .transform((a) => Object.freeze(a)) as never;

/**
 * Kata's `SerializeParams(params, delim)`: pairs with both parts empty are skipped; a pair with only
 * a key or only a value becomes that single token; with `delim === ''` a full pair becomes two tokens
 * (`['-key', 'value']`, as for hypervisor arguments); otherwise `key<delim>value`.
 */
export function serializeParams(params: readonly Param[], delim: string): string[] {
  const out: string[] = [];
  for (const { key, value } of params) {
    if (key === '' && value === '') continue;
    if (key === '') out.push(value);
    else if (value === '') out.push(key);
    else if (delim === '') out.push(key, value);
    else out.push(`${key}${delim}${value}`);
  }
  return out;
}

/** Kata's `DeserializeParams`: empty strings skipped, each split on the first `=`. */
export function deserializeParams(parameters: readonly string[]): Param[] {
  const out: Param[] = [];
  for (const p of parameters) {
    if (p === '') continue;
    const i = p.indexOf('=');
    out.push(Object.freeze(i < 0 ? { key: p, value: '' } : { key: p.slice(0, i), value: p.slice(i + 1) }));
  }
  return out;
}
