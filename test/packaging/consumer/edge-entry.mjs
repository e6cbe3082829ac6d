// Bundled for the browser/edge with esbuild, then evaluated in Vercel's edge-runtime (a
// Web-standard context with no Node APIs): an edge function's view of the SDK.
import * as sdk from '@pacspace-io/sdk';
import quickstart from './quickstart-steps.cjs';

globalThis.runQuickstart = (env) => quickstart(sdk, env).then((result) => JSON.stringify({ ...result, module: 'edge' }));
