#!/usr/bin/env node
// The `pacspace-sandbox` bin (mock/cli/main.ts does the work). On Node 22.1+ V8's compiled code
// is kept between starts (module.enableCompileCache; nothing on Node 20): most of a start is
// compiling the modules the sandbox loads, so it is enabled before any of them is imported.
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./cli/main.ts');
