import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [svelte()],
  build: {
    // The service's CSP allows scripts from 'self' only: no inline polyfill in index.html.
    modulePreload: { polyfill: false },
    // Fonts and icons stay files: a data: URI for a font or script would need a looser CSP.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
