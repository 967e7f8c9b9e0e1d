import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { allowMethods, decodeSegment, HttpError, type Reply } from '#shared/dashboard/http.ts';

/** The built UI (dashboard/dist): its files, index.html for the page's own routes, a plain page when not built. */

const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rotor dashboard not built</title></head>
<body style="font-family: sans-serif; margin: 3rem">
<h1>Rotor dashboard</h1>
<p>dashboard not built: run npm run build:dashboard, then reload this page.</p>
<p>The twin runs meanwhile, and the API answers under <code>/api/</code> (shared/dashboard/contract.ts).</p>
</body></html>
`;

export async function staticFile(request: IncomingMessage, pathname: string, root: string): Promise<Reply> {
  allowMethods(request, ['GET', 'HEAD']);
  const index = path.join(root, 'index.html');
  if (!(await isFile(index))) return { status: 503, body: NOT_BUILT_PAGE, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } };
  const relative = decodeSegment(pathname);
  const file = path.resolve(root, `.${relative}`);
  const inside = file.startsWith(root + path.sep);
  if (inside && !relative.includes('\0') && (await isFile(file))) return fileReply(file, relative);
  // Paths with an extension are files the page asked for; a missing one is a 404, not the page in its place.
  if (path.extname(relative) !== '') throw new HttpError(404, `no file ${relative}`, 'NotFound');
  return fileReply(index, '/index.html');
}

async function fileReply(file: string, relative: string): Promise<Reply> {
  const extension = path.extname(file).toLowerCase();
  const html = extension === '.html';
  return {
    status: 200,
    body: await readFile(file),
    headers: {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      // Vite names what it puts under assets/ by content hash.
      'cache-control': relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(html ? { 'content-security-policy': CONTENT_SECURITY_POLICY } : {}),
    },
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
