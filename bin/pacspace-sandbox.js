#!/usr/bin/env node
// Runs the sandbox's TypeScript sources directly (tsx), so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../mock/cli.ts');
