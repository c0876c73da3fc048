// Fails when gen/ differs from what `buf generate` makes of proto/ now,
// so a schema edit cannot land without its generated code (or the reverse).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'otlp-fanout-gen-'));
try {
  execFileSync('buf', ['generate', '-o', out], { stdio: 'inherit' });
  const list = (root) => {
    const files = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(relative(root, p));
      }
    };
    walk(root);
    return files.sort();
  };
  const want = list(join(out, 'gen'));
  const have = list('gen');
  const problems = [];
  for (const f of new Set([...want, ...have])) {
    if (!want.includes(f)) problems.push(`gen/${f} is not generated from proto/ (remove it)`);
    else if (!have.includes(f)) problems.push(`gen/${f} is missing (run npm run generate)`);
    else if (!readFileSync(join(out, 'gen', f)).equals(readFileSync(join('gen', f)))) {
      problems.push(`gen/${f} is stale (run npm run generate)`);
    }
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(`gen/ matches proto/ (${want.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
