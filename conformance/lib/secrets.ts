// Every secret the run sees: the inputs (API key secret, password) and each secret the target
// reveals (created or regenerated keys, webhook signing secrets, session cookies). A secret
// may appear only in the exchange that revealed it; REVEAL-002 scans everything else.
export type KnownSecret = { value: string; label: string; revealedIn: Set<number> };

export function createSecretRegistry() {
  const secrets = new Map<string, KnownSecret>();
  return {
    /** Records a secret; `exchangeId` is where it may legitimately appear (0: nowhere). */
    add(value: string | undefined, label: string, exchangeId = 0) {
      if (!value || value.length < 8) return;
      const known = secrets.get(value) ?? { value, label, revealedIn: new Set<number>() };
      if (exchangeId) known.revealedIn.add(exchangeId);
      secrets.set(value, known);
    },
    all: () => [...secrets.values()],
  };
}

export type SecretRegistry = ReturnType<typeof createSecretRegistry>;

/** The secret half of a full API key (the part after the period). */
export const secretOf = (fullKey: string) => fullKey.slice(fullKey.indexOf('.') + 1);
