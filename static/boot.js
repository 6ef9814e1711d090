// Starts sockscope's WebAssembly. This is a file rather than an inline script so that the
// page's Content-Security-Policy can forbid inline scripts; Trunk writes the hashed names of
// the bindings and of the module into the script tag's data attributes.
//
// The page comes in two builds. The player, which every visitor downloads, plays scenarios;
// the studio adds the playground, what-if forks and predict mode, and is loaded instead when
// the address says studio=1 or predict=1 (the player's links to the studio say so), or
// api=… (an embed that a course page drives with messages, see docs/embed.md), or when the
// fragment carries a packetdrill script (#pkt=…), which only the studio reads.
const tag = document.querySelector("script[data-js]");
const params = new URLSearchParams(location.search);
const studio =
  params.get("studio") === "1" || params.get("predict") === "1" || params.has("api") || location.hash.startsWith("#pkt=");
const js = studio ? "./studio/sockscope-studio.js" : tag.dataset.js;
const wasm = studio ? "./studio/sockscope-studio_bg.wasm" : tag.dataset.wasm;
if (studio) {
  const sheet = document.createElement("link");
  sheet.rel = "stylesheet";
  sheet.href = "./studio/studio.css";
  document.head.append(sheet);
}
// A file dropped on the page or picked with "Open a file…": open-file.js, loaded only then,
// opens it.
const openFile = (file) => file && import("./open-file.js").then((module) => module.open(file));
const dropping = (on) => document.body.classList.toggle("dropping", on);
addEventListener("dragover", (event) => {
  if (event.dataTransfer?.types.includes("Files")) {
    event.preventDefault();
    dropping(true);
  }
});
addEventListener("dragleave", (event) => event.relatedTarget || dropping(false));
addEventListener("drop", (event) => {
  dropping(false);
  if (event.dataTransfer?.files.length) {
    event.preventDefault();
    openFile(event.dataTransfer.files[0]);
  }
});
addEventListener("change", (event) => event.target.matches?.("[data-open-file]") && openFile(event.target.files[0]));

try {
  const bindings = await import(js);
  await bindings.default({ module_or_path: wasm });
} catch (error) {
  const loading = document.getElementById("loading");
  if (loading) {
    loading.textContent = `sockscope could not start (${error}). It needs a browser with WebAssembly.`;
    loading.classList.add("failed");
  }
  throw error;
}
