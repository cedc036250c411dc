// Writes `.br` and `.gz` next to every JS, CSS, HTML and SVG file of the build (`dist/`), for
// the server to send as they are (hubbub-web picks one per `Accept-Encoding`). Run after
// `vite build` (`npm run build` does). A variant that would not be smaller is not written.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const COMPRESSIBLE = /\.(js|mjs|css|html|svg)$/i;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let raw = 0;
let br = 0;
let gz = 0;
for (const path of [...files(dist)]) {
  if (/\.(br|gz)$/.test(path)) {
    rmSync(path); // left by an earlier run over the same folder
    continue;
  }
  if (!COMPRESSIBLE.test(path)) continue;
  const bytes = readFileSync(path);
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
  const gzip = gzipSync(bytes, { level: 9 });
  raw += bytes.length;
  if (brotli.length < bytes.length) {
    writeFileSync(`${path}.br`, brotli);
    br += brotli.length;
  } else br += bytes.length;
  if (gzip.length < bytes.length) {
    writeFileSync(`${path}.gz`, gzip);
    gz += gzip.length;
  } else gz += bytes.length;
  console.log(`${relative(dist, path)}: ${bytes.length} raw, ${brotli.length} br, ${gzip.length} gz`);
}
console.log(`compressible total: ${raw} raw, ${br} br, ${gz} gz`);
