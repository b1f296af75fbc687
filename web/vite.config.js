import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Three single-page apps, one build: the storefront at /, the operator console at /console/
// and the explorer at /explorer/. The node serves the result from its binary; `npm run dev`
// serves it from source and sends the API to a node on 127.0.0.1:8080.
const here = dirname(fileURLToPath(import.meta.url));

// Vant's icon font lists a copy on a CDN after the one inlined in its CSS. Nothing may load from
// a CDN (and the pages' Content-Security-Policy would refuse it): drop those sources.
const noCdnFonts = {
  name: 'jiancang-no-cdn-fonts',
  transform(code, id) {
    if (!id.includes('/vant/') || !id.endsWith('.css')) return null;
    return { code: code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\("[a-z]+"\)/g, ''), map: null };
  },
};

export default defineConfig({
  plugins: [
    // <model-viewer> is a custom element, not a Vue component.
    vue({ template: { compilerOptions: { isCustomElement: (tag) => tag === 'model-viewer' } } }),
    noCdnFonts,
  ],
  base: '/',
  resolve: { alias: { '@': resolve(here, 'src') } },
  build: {
    target: 'es2020',
    assetsInlineLimit: 2048,
    // The 3D viewer's chunk (about 1 MB, 300 KB gzipped) loads only on pages that show a model.
    chunkSizeWarningLimit: 1100,
    // For scripts/pack.mjs, which checks the first storefront page's JavaScript budget.
    manifest: true,
    rollupOptions: {
      input: {
        storefront: resolve(here, 'index.html'),
        console: resolve(here, 'console/index.html'),
        explorer: resolve(here, 'explorer/index.html'),
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/media': 'http://127.0.0.1:8080',
      '/sandbox': 'http://127.0.0.1:8080',
    },
  },
});
