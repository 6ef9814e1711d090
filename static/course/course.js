// The example course page's script: it embeds sockscope, allows only this page's origin to
// drive it, sends it commands from the lesson's buttons, and shows what it reports. Every
// message is checked to come from the player's window and origin before it is believed.

const player = document.getElementById("player");
const log = document.getElementById("log");
const where = document.getElementById("where");
const score = document.getElementById("score");
const predict = document.getElementById("predict");

// sockscope is served from the folder above this page; a course on another site would put
// the player's own address here instead.
const sockscope = new URL("../", location.href);
const first = document.getElementById("scenario").value;
player.src = `${sockscope.href}?s=${first}&embed=1&api=${encodeURIComponent(location.origin)}`;

function send(message) {
  player.contentWindow.postMessage({ sockscope: 1, ...message }, sockscope.origin);
}

function note(text) {
  const item = document.createElement("li");
  item.textContent = text; // text, never markup: the player's words are data here
  log.append(item);
  while (log.children.length > 40) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

window.addEventListener("message", (event) => {
  if (event.source !== player.contentWindow || event.origin !== sockscope.origin) return;
  const message = event.data;
  if (!message || message.sockscope !== 1) return;
  switch (message.type) {
    case "ready":
      note("ready: the player takes commands");
      break;
    case "opened":
      note(`opened: ${message.title} (${message.steps} steps, ${message.duration_ms} ms)`);
      player.title = `sockscope: ${message.title}`;
      break;
    case "moment":
      where.textContent = `Step ${message.step} of ${message.steps}, t = ${message.time_ms.toFixed(3)} ms` +
        (message.playing ? `, playing at ${message.speed}×` : ", paused");
      break;
    case "answer":
      note(`answer: ${message.question} You said ${message.chosen}; ${message.correct ? "right" : `it is ${message.answer}`}.`);
      score.textContent = `Your score: ${message.right} of ${message.asked}`;
      break;
    case "end":
      note(`end: ${message.reason}`);
      break;
    case "rejected":
      note(`rejected: ${message.reason}`);
      break;
    default:
      break;
  }
});

document.getElementById("open").addEventListener("click", () => {
  send({ type: "open", scenario: document.getElementById("scenario").value });
});
document.getElementById("play").addEventListener("click", () => send({ type: "play" }));
document.getElementById("pause").addEventListener("click", () => send({ type: "pause" }));
document.getElementById("speed").addEventListener("change", (event) => {
  send({ type: "speed", speed: Number(event.target.value) });
});
document.getElementById("seek").addEventListener("click", () => {
  send({ type: "seek", step: Number(document.getElementById("step").value) });
});
predict.addEventListener("click", () => {
  const on = predict.getAttribute("aria-pressed") !== "true";
  predict.setAttribute("aria-pressed", String(on));
  send({ type: "predict", on });
});
document.getElementById("bad").addEventListener("click", () => send({ type: "seek", step: "three" }));
