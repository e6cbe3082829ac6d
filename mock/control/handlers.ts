import type { Handlers } from '../domain/handler.ts';

export const controlHandlers: Handlers = {};
