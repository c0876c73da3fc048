// `node --import ./scripts/connect-2.3/register.mjs …`: installs hooks.mjs, then checks that it works,
// so a run that meant to test connect 2.3 cannot silently test the repository's 2.1.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

register('./hooks.mjs', import.meta.url);

for (const name of ['@connectrpc/connect', '@connectrpc/connect-node']) {
  const want = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')).dependencies[name];
  const entry = import.meta.resolve(name);
  let dir = new URL('./', entry);
  let found;
  while (found === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
      if (pkg.name === name) found = pkg.version;
    } catch {}
    const up = new URL('../', dir);
    if (up.href === dir.href) break;
    dir = up;
  }
  if (found !== want || !fileURLToPath(entry).startsWith(fileURLToPath(new URL('node_modules/', import.meta.url)))) {
    console.error(`connect-2.3: ${name} resolves to ${entry} (version ${found}), want ${want} from this folder`);
    process.exit(1);
  }
}
console.error('connect-2.3: @connectrpc/connect and connect-node 2.3.0 from scripts/connect-2.3');
