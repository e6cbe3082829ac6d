#!/usr/bin/env node
// Runs the conformance suite's TypeScript sources directly (tsx), so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../conformance/cli.ts');
