// The custom inspection hook without node:util: `util.inspect.custom` is this registered
// symbol, which Node, Bun and Deno all look up, and importing node:util would tie the SDK's
// main entry to Node. A hook returns plain text; `stylize` (colors) is used when the runtime
// passes it.
export const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** What a runtime passes to the hook; only `stylize` is used, and only if present. */
export type InspectOptions = { stylize?: (text: string, style: string) => string } | undefined;

/** A string value as inspect shows it: single-quoted, colored like a string when possible. */
export function quoted(value: string, options: InspectOptions): string {
  const text = `'${value}'`;
  return typeof options?.stylize === 'function' ? options.stylize(text, 'string') : text;
}
