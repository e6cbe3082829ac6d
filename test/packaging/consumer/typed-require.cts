// A CommonJS TypeScript consumer (compiled under `module: nodenext`): `require` resolves the
// package's `require` condition and its .d.cts types.
import sdk = require('@pacspace-io/sdk');

export function client(apiKey: string): InstanceType<typeof sdk.PacSpace> {
  const pac = new sdk.PacSpace({ apiKey });
  // @ts-expect-error balance has no such method
  pac.balance.delete('customer_001');
  return pac;
}
