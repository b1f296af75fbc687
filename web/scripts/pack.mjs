// Packs a Vite build (dist/) into the one file the node embeds (src/api/web_assets.h):
// "JCWEBPK1", the index's length (4 bytes, little-endian), the index as JSON, then the files.
// Each file is stored as built and, when that is smaller, gzipped (level 9), so the node
// answers gzip without compressing anything per request. docs/FORMATS.md, "Web pack".
//
//   node scripts/pack.mjs DIST OUT
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const [dist, out] = process.argv.slice(2);
if (!dist || !out) {
  console.error('usage: node scripts/pack.mjs DIST OUT');
  process.exit(2);
}

// The first storefront page (its entry and the home page, with what they import statically)
// must stay within 200 KB of JavaScript as served (gzipped).
const budget = 200 * 1024;
const manifestPath = join(dist, '.vite', 'manifest.json');
let manifest = null;
try {
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
} catch {
  console.error(`pack: ${manifestPath} is missing: build with Vite's manifest on (vite.config.js)`);
  process.exit(1);
}
const firstPage = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || firstPage.has(chunk.file)) return;
  firstPage.add(chunk.file);
  for (const imported of chunk.imports ?? []) visit(imported);
};
visit('index.html');
visit('src/storefront/pages/HomePage.vue');
let firstPageBytes = 0;
for (const file of firstPage) {
  if (file.endsWith('.js')) firstPageBytes += gzipSync(readFileSync(join(dist, file)), { level: constants.Z_BEST_COMPRESSION }).length;
}
if (firstPageBytes > budget) {
  console.error(`pack: the first storefront page needs ${(firstPageBytes / 1024).toFixed(0)} KB of gzipped JavaScript; the budget is ${budget / 1024} KB`);
  process.exit(1);
}

const files = [];
const chunks = [];
let offset = 0;
const append = (bytes) => {
  const at = offset;
  chunks.push(bytes);
  offset += bytes.length;
  return at;
};
let plainTotal = 0;
let gzipTotal = 0;
for (const path of walk(dist).sort()) {
  const urlPath = '/' + relative(dist, path).split(sep).join('/');
  if (urlPath.startsWith('/.vite/')) continue; // the build's manifest, not served
  const type = types[extname(path)];
  if (!type) {
    console.error(`pack: ${urlPath}: no content type for its extension; add one to scripts/pack.mjs`);
    process.exit(1);
  }
  const body = readFileSync(path);
  // Everything a page loads comes from the node: a stylesheet pointing elsewhere is a build bug.
  if (type.startsWith('text/css') && /url\(\s*["']?(https?:)?\/\//.test(body.toString('utf8'))) {
    console.error(`pack: ${urlPath} loads something from another site: ${body.toString('utf8').match(/url\(\s*["']?(https?:)?\/\/[^)]*\)/)[0]}`);
    process.exit(1);
  }
  const entry = {
    path: urlPath,
    type,
    etag: createHash('sha256').update(body).digest('hex').slice(0, 32),
    // Vite names what it emits under assets/ by content hash: it never changes under one name.
    immutable: urlPath.startsWith('/assets/'),
    offset: append(body),
    size: body.length,
  };
  plainTotal += body.length;
  const gzipped = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  if (gzipped.length < body.length * 0.95) {
    entry.gzip_offset = append(gzipped);
    entry.gzip_size = gzipped.length;
    gzipTotal += gzipped.length;
  } else {
    gzipTotal += body.length;
  }
  files.push(entry);
}
const index = Buffer.from(JSON.stringify({ files }));
const length = Buffer.alloc(4);
length.writeUInt32LE(index.length);
writeFileSync(out, Buffer.concat([Buffer.from('JCWEBPK1'), length, index, ...chunks]));
const kib = (n) => (n / 1024).toFixed(0) + ' KiB';
console.log(
  `web pack: ${files.length} files, ${kib(plainTotal)} (${kib(gzipTotal)} as served gzipped); ` +
    `first storefront page ${kib(firstPageBytes)} of gzipped JavaScript (budget ${kib(budget)})`,
);
