// Preloaded (`node --import`) into the `redocly respect` process the workflow test runs: every
// TCP connection it opens goes through net.Socket#connect (fetch/undici, http, https, tls), so
// refusing any destination other than loopback there proves the run sends nothing to the
// network — no telemetry, no update check, no server of the contract's other than the
// sandbox. Each refused destination is appended to the file named by
// PACSPACE_NETWORK_LOG, which the test expects to stay empty.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;
const log = process.env.PACSPACE_NETWORK_LOG;
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function guardedConnect(...args) {
  const [first, second] = Array.isArray(args[0]) ? args[0] : args;
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof second === 'string' ? second : undefined };
  if (options.path === undefined) {
    const host = options.host ?? 'localhost';
    if (!LOOPBACK.test(host)) {
      if (log) appendFileSync(log, `${host}:${options.port}\n`);
      this.destroy(new Error(`loopback-only: refused a connection to ${host}:${options.port}`));
      return this;
    }
  }
  return connect.apply(this, args);
};
