/**
 * Module resolution hooks that load connect-es from this folder (2.3) instead of the repository's
 * node_modules (our dependency, ~2.1, the last line that supports Node 20), for every importer: src/
 * transports, the gateway's receivers and the test receivers alike. protobuf-es stays the
 * repository's one copy, so gen/ schemas and connect share a single runtime.
 */
const here = new URL('./', import.meta.url);
const peer = new URL('package.json', here).href;
const root = new URL('../../package.json', here).href;

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  if (/^@connectrpc\/connect(-node)?(\/|$)/.test(specifier)) return next(specifier, { ...context, parentURL: peer });
  if (/^@bufbuild\/protobuf(\/|$)/.test(specifier) && context.parentURL?.startsWith(here.href)) {
    return next(specifier, { ...context, parentURL: root });
  }
  return next(specifier, context);
}
