// Reports never carry a secret: anything shaped like one is masked, and so is every literal
// secret the caller passes (the --api-key secret and the --password).
const PATTERNS: Array<[RegExp, string]> = [
  [/\b(sk_(?:test|live)_)[A-Za-z0-9]+/g, '$1[REDACTED]'],
  [/\bwhsec_[A-Za-z0-9]+/g, 'whsec_[REDACTED]'],
  [/\b(pacspace_(?:access|refresh)=)[^;\s,"']+/g, '$1[REDACTED]'],
];

export function createRedactor(literals: Array<string | undefined>) {
  const exact = literals.filter((s): s is string => !!s && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const secret of exact) out = out.split(secret).join('[REDACTED]');
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}
