import { describe, expect, it } from 'vitest';
import { nonPublicReason } from './public-address.ts';

describe('nonPublicReason', () => {
  it('refuses private, link-local, shared and reserved addresses in any spelling', () => {
    for (const url of [
      'https://10.0.0.1/hook',
      'https://167772161/',
      'https://0x0a000001/',
      'https://169.254.169.254/latest/meta-data',
      'https://0xa9fea9fe/',
      'https://172.16.5.4/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://224.0.0.1/',
    ]) expect(nonPublicReason(url), url).toMatch(/public/);
  });

  it('accepts public addresses, host names and this machine (loopback, for a local receiver)', () => {
    for (const url of ['https://93.184.216.34/', 'https://[2606:4700::1111]/', 'https://example.com/x', 'http://127.0.0.1:3000/hooks', 'http://localhost:3000/', 'https://2130706433/', 'https://[::1]/']) {
      expect(nonPublicReason(url), url).toBeUndefined();
    }
  });
});
