// Bundles the widget (socket.io-client included) into webapp/static/widget/widget.js and prints
// its size, raw and gzipped. `make widget` runs it after `npm ci`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const outfile = new URL('../webapp/static/widget/widget.js', import.meta.url).pathname;

await build({
  entryPoints: ['src/index.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2019'],
  loader: { '.css': 'text' },
  legalComments: 'eof',
  outfile,
  logLevel: 'warning',
});

const bundle = readFileSync(outfile);
const gzipped = gzipSync(bundle, { level: 9 }).length;
writeFileSync(
  new URL('../webapp/static/widget/SIZE.txt', import.meta.url),
  `widget.js: ${bundle.length} bytes, ${gzipped} bytes gzipped (level 9)\n`,
);
console.log(`widget.js: ${(bundle.length / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
