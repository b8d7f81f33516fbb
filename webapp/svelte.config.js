import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

export default {
  preprocess: vitePreprocess(),
  // CSS goes into the built .css file, never into <style> elements the CSP would refuse.
  compilerOptions: { css: "external", runes: true },
};
