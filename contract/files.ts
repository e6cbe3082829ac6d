// Where the contract's built artefacts are at run time. In the repository they are the
// committed `generated/` folder and the docs build's `docs/site/`; a package build copies them
// into `generated/` and `docs/` beside its bundle and defines PACSPACE_PACKAGED, so the same
// code finds them in an installed package.
import { fileURLToPath } from 'node:url';

declare const PACSPACE_PACKAGED: boolean | undefined;
const packaged = typeof PACSPACE_PACKAGED !== 'undefined' && PACSPACE_PACKAGED;

const generatedDir = packaged ? new URL('./generated/', import.meta.url) : new URL('../generated/', import.meta.url);

/** The path of a file of `generated/` (`openapi.json`, `sandbox-control.prism.json`, …). */
export const generatedFile = (name: string): string => fileURLToPath(new URL(name, generatedDir));

/** The request inspector's page (mock/inspector/page/; `inspector/` beside a package's bundle). */
export const inspectorPageDir: string = fileURLToPath(packaged ? new URL('./inspector/', import.meta.url) : new URL('../mock/inspector/page/', import.meta.url));

/** The folder of the built docs site (it may not exist: `npm run docs` builds it). */
export const docsSiteDir: string = fileURLToPath(packaged ? new URL('./docs/', import.meta.url) : new URL('../docs/site/', import.meta.url));
