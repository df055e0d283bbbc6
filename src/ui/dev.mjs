// A development server: serves dist/ (rebuilt by `node build.mjs`) and
// passes /api/ and /metrics to a running service, so the console can be
// worked on against `cargo run --example console_dev` without rebuilding
// the binary.   node dev.mjs <port> <service base URL>
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { extname, join, normalize } from 'node:path';

const [port = '5173', backend = 'http://127.0.0.1:5080'] = process.argv.slice(2);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.woff2': 'font/woff2' };
const up = new URL(backend);

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/api/') || url.pathname === '/metrics') {
    const p = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    p.on('error', () => {
      res.writeHead(502);
      res.end('{"code":-1,"msg":"backend down","data":null}');
    });
    req.pipe(p);
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : normalize(url.pathname).replace(/^\/+/, '');
  const file = join('dist', rel);
  if (rel.includes('..') || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
  createReadStream(file).pipe(res);
}).listen(Number(port), '127.0.0.1', () => console.log(`dev: http://127.0.0.1:${port}/ -> ${backend}`));
