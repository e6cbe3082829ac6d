// OpenAPI path templates (`/dashboard/api-keys/{id}`) compiled once to a matcher: the one way
// the sandbox's router, the conformance suite and the test tools match a request path.
export type PathTemplate = {
  template: string;
  /** The parameter names, in order. */
  names: string[];
  /** The number of `{…}` segments (concrete templates are tried before parameterised ones). */
  parameters: number;
  /** The compiled expression (anchored; one capture group per parameter). */
  pattern: RegExp;
  /** True when the path (without its query) matches. */
  test(path: string): boolean;
  /** The raw (still percent-encoded) parameter values by name, or undefined when the path does not match. */
  match(path: string): Record<string, string> | undefined;
};

const escapeRegExp = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/** `{name}` matches one non-empty path segment. */
export function compilePathTemplate(template: string): PathTemplate {
  const names: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return escapeRegExp(part);
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('');
  const pattern = new RegExp(`^${source}$`);
  return {
    template,
    names,
    parameters: names.length,
    pattern,
    test: (path) => pattern.test(path),
    match(path) {
      const m = pattern.exec(path);
      return m ? Object.fromEntries(names.map((name, i) => [name, m[i + 1]!])) : undefined;
    },
  };
}

/** Whether a raw path or parameter percent-decodes (as UTF-8); only a `%` can fail to. */
export function isDecodable(text: string): boolean {
  if (!text.includes('%')) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
