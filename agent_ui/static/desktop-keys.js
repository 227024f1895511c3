// The desktop's keyboard shortcuts (issue 19): Alt and a letter, by the key's place (event.code),
// so they work with any keyboard layout and while a Chinese input method is on. Each acts only when
// its button is shown and enabled — the same as clicking it; the buttons carry aria-keyshortcuts,
// which the page shows beside them. Alt+K lists them.
"use strict";

const SHORTCUTS = [
  { code: "KeyA", buttons: ["bar-answer"], label: "phone.answer" },
  { code: "KeyH", buttons: ["hang-up"], label: "call.hang_up" },
  { code: "KeyO", buttons: ["hold", "resume"], label: "keys.hold_resume" },
  { code: "KeyT", buttons: ["bar-transfer"], label: "call.transfer" },
  { code: "KeyR", buttons: ["go-available"], label: "state.go_available" },
  { code: "KeyP", buttons: ["go-paused"], label: "state.go_paused" },
  { code: "KeyF", focus: "search-text", label: "search.find" },
  { code: "KeyK", buttons: ["show-shortcuts"], label: "keys.title" },
];

function usable(node) {
  return node && !node.hidden && !node.disabled && node.offsetParent !== null;
}

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || $("desktop-view").hidden) return;
  const shortcut = SHORTCUTS.find((s) => s.code === event.code);
  if (!shortcut) return;
  event.preventDefault();
  if (shortcut.focus) { $(shortcut.focus).focus(); return; }
  const button = shortcut.buttons.map($).find(usable);
  if (button) button.click();
});

function renderShortcuts() {
  $("shortcut-list").replaceChildren(...SHORTCUTS.flatMap((s) => [
    element("dt", `Alt+${s.code.slice(3)}`), element("dd", t(s.label)),
  ]));
}

$("show-shortcuts").addEventListener("click", () => { renderShortcuts(); $("shortcuts").showModal(); });
$("bar-answer").addEventListener("click", () => { $("phone-answer").click(); });
$("bar-transfer").addEventListener("click", () => {
  const target = $("transfer-to").value === "queue" ? $("transfer-queue") : $("transfer-target");
  target.scrollIntoView({ block: "nearest" });
  target.focus();
});
