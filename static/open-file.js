// Opens a file the reader drops anywhere on the page, or picks with "Open a file": a
// scenario's JSON or a packetdrill script. The page's address already carries custom text in
// its fragment, packed as frontend/src/share.rs packs it (raw deflate, then unpadded
// base64url), so opening a file is going to the address that carries it. A script goes to
// the studio's build, the only one that reads scripts (`#pkt=`); a scenario stays in the
// build it is in. boot.js listens for the file and loads this module only then, so the page
// a visitor downloads carries none of it.

// The engine reads no scenario or script longer than this (MAX_SCENARIO_BYTES).
const MAX_BYTES = 1 << 20;

// Says something about the file in a line screen readers announce; text, never markup.
function say(text) {
  let note = document.getElementById("open-file-note");
  if (!note) {
    note = document.createElement("p");
    note.id = "open-file-note";
    note.setAttribute("role", "alert");
    note.dataset.testid = "open-file-note";
    document.body.prepend(note);
  }
  note.textContent = text;
}

async function pack(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function open(file) {
  const name = file.name.length > 80 ? `${file.name.slice(0, 80)}…` : file.name;
  if (file.size > MAX_BYTES) {
    say(`“${name}” is ${file.size} bytes; sockscope opens files of at most 1 MiB.`);
    return;
  }
  let text;
  try {
    text = await file.text();
  } catch {
    say(`The browser could not read “${name}”.`);
    return;
  }
  if (text.includes("\0")) {
    say(`“${name}” is not text. sockscope opens scenarios (.json) and packetdrill scripts (.pkt).`);
    return;
  }
  const scenario = text.trimStart().startsWith("{");
  say(`Opening “${name}”…`);
  let packed;
  try {
    packed = await pack(text);
  } catch {
    say(`This browser cannot compress “${name}” for the page's address, which is how sockscope opens it.`);
    return;
  }
  const studio = !scenario || new URLSearchParams(location.search).get("studio") === "1";
  location.assign(`?${studio ? "studio=1" : ""}#${scenario ? "scenario" : "pkt"}=${packed}`);
}
