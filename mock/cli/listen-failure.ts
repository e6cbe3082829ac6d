// A listener that could not bind, as one line for the command line: what happened, which flag
// decides it, and what to do about it.
import type { ListenError } from '../http/listener.ts';

/** The system could not use the address itself: the host is what to change. */
const HOST_PROBLEMS = new Set(['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

export function listenFailure(error: ListenError): string {
  const flag = error.code && HOST_PROBLEMS.has(error.code) ? '--host' : error.listener === 'production' ? '--port' : '--sandbox-port';
  const advice =
    error.code === 'EADDRINUSE'
      ? 'choose another port or stop the process using it'
      : error.code === 'EACCES' && error.port < 1024
        ? 'ports below 1024 need privileges; choose a higher port'
        : error.code === 'EADDRNOTAVAIL'
          ? 'use one of its addresses, such as 127.0.0.1'
          : undefined;
  return `${error.message} (${flag})${advice ? `; ${advice}` : ''}`;
}
