/**
 * A static file server for the built browser demo. With `isolated`, it sends the headers that make
 * a page cross-origin isolated (COOP/COEP), which browsers require before they give wasm threads.
 *
 * Run: npm run demo:browser [-- --isolated] [-- --port 8080]
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `directory` on localhost (port 0: any free port). Paths outside it are refused. */
export const serveDirectory = (directory: string, options: { readonly isolated?: boolean; readonly port?: number } = {}): Promise<Served> => {
  const root = resolve(directory);
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`));
    if (file !== root && !file.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
          ...(options.isolated === true ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
        });
        response.end(body);
      },
      () => response.writeHead(404, { 'content-type': 'text/plain' }).end('not found'),
    );
  });
  return new Promise((resolveServed, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      resolveServed({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { buildBrowserDemo } = await import('./build');
  const out = await buildBrowserDemo();
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const served = await serveDirectory(out, { isolated: args.includes('--isolated'), port: portAt >= 0 ? Number(args[portAt + 1]) : 8080 });
  console.log(`transferkit browser demo: ${served.url}${args.includes('--isolated') ? ' (cross-origin isolated: wasm may use threads)' : ''}`);
  console.log('add ?backend=webgl, ?backend=wasm or ?backend=cpu to insist on one backend; Ctrl-C stops.');
}
