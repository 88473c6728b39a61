// Builds the page into dist/ with fixed file names (dist/index.html, dist/assets/app.js,
// dist/assets/app.css), which orchestrator/server/src/web.rs compiles into the cbutler binary.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: false,
    sourcemap: false,
    // One script: the server embeds a fixed set of files.
    codeSplitting: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/app-[name].js',
        assetFileNames: 'assets/app[extname]',
      },
    },
  },
});
