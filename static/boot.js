// Starts sockscope's WebAssembly. This is a file rather than an inline script so that the
// page's Content-Security-Policy can forbid inline scripts; Trunk writes the hashed names of
// the bindings and of the module into the script tag's data attributes.
const tag = document.querySelector("script[data-js]");
try {
  const bindings = await import(tag.dataset.js);
  await bindings.default({ module_or_path: tag.dataset.wasm });
} catch (error) {
  const loading = document.getElementById("loading");
  if (loading) {
    loading.textContent = `sockscope could not start (${error}). It needs a browser with WebAssembly.`;
    loading.classList.add("failed");
  }
  throw error;
}
