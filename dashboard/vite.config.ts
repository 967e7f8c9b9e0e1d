import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { devApi } from './dev/dev-api.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

// `npm run build:dashboard` writes dashboard/dist/, which `rotor up` serves beside the API.
// `npx vite --config dashboard/vite.config.ts` serves the UI with hot reload: against ROTOR_DASHBOARD_API (a running
// dashboard server, e.g. http://127.0.0.1:PORT) when set, otherwise against the static fixtures in dashboard/fixtures/.
export default defineConfig({
  root,
  base: './',
  plugins: [react(), devApi(process.env.ROTOR_DASHBOARD_API)],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { host: '127.0.0.1' },
});
