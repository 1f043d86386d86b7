// The nanochat playground: completion and chat modes over this server's own /v1 API (same origin only),
// streamed with fetch + SSE parsing, stoppable with an AbortController. No build step, no dependencies.
"use strict";
const $ = (id) => document.getElementById(id);
const KEY_STORE = "nanochat.api_key";  // sessionStorage: the key lives as long as the tab, never on disk
let controller = null;
const chat = [];  // {role, content} of the conversation so far

function mode() { return document.querySelector('input[name="mode"]:checked').value; }

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api_key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function showError(text) { $("error").hidden = !text; $("error").textContent = text || ""; }

// A completion is code; a chat answer is prose with ``` fences. Either way code gets highlighted with a copy button.
function renderCode(code) {
  const wrap = document.createElement("div");
  wrap.className = "codeblock";
  const pre = document.createElement("pre");
  const el = document.createElement("code");
  el.className = "language-rust";
  el.innerHTML = highlightRust(code);
  pre.appendChild(el);
  const copy = document.createElement("button");
  copy.className = "copy";
  copy.textContent = "Copy";
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(code); copy.textContent = "Copied"; }
    catch (e) { copy.textContent = "Copy failed"; }
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  });
  wrap.append(copy, pre);
  return wrap;
}

function renderMarkdownish(text) {
  const frag = document.createDocumentFragment();
  const parts = text.split(/```[a-zA-Z]*\n?/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) { frag.appendChild(renderCode(part.replace(/\n$/, ""))); return; }
    if (part) { const p = document.createElement("div"); p.textContent = part; p.style.whiteSpace = "pre-wrap"; frag.appendChild(p); }
  });
  return frag;
}

function renderChat(pending) {
  const box = $("messages");
  box.replaceChildren();
  for (const m of chat.concat(pending ? [pending] : [])) {
    const div = document.createElement("div");
    div.className = "msg " + m.role;
    const role = document.createElement("div");
    role.className = "role";
    role.textContent = m.role;
    div.append(role, renderMarkdownish(m.content));
    box.appendChild(div);
  }
}

async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      if (block.startsWith("data: ")) yield block.slice(6);  // ": ping" comments are skipped
    }
  }
}

async function generate() {
  showError("");
  const isChat = mode() === "chat";
  const body = {
    temperature: Number($("temperature").value), top_p: Number($("top_p").value),
    max_tokens: Number($("max_tokens").value), stream: true,
  };
  let prompt = "";
  if (isChat) {
    const text = $("chat-input").value.trim();
    if (!text) return;
    chat.push({ role: "user", content: text });
    $("chat-input").value = "";
    body.messages = chat.slice();
  } else {
    prompt = $("prompt").value;
    body.prompt = prompt;
  }
  controller = new AbortController();
  $("send").disabled = true; $("stop").disabled = false;
  $("finish").textContent = "…"; $("tps").textContent = "– tok/s";
  let text = "", tokens = 0, first = null, finish = null;
  const draw = () => {
    if (isChat) renderChat({ role: "assistant", content: text });
    else $("output").replaceChildren(renderCode(prompt + text));
  };
  try {
    const r = await fetch(isChat ? "v1/chat/completions" : "v1/completions",
      { method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal });
    if (!r.ok) {
      let msg = r.status + " " + r.statusText;
      try { msg = (await r.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    for await (const data of sseEvents(r)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      const c = chunk.choices && chunk.choices[0];
      if (!c) continue;
      const piece = isChat ? (c.delta && c.delta.content) || "" : c.text || "";
      if (piece) {
        tokens += 1;  // one SSE chunk per token, except text held back for a stop string or a split character
        if (first === null) first = performance.now();
        text += piece;
        draw();
      }
      if (c.finish_reason) finish = c.finish_reason;
      const secs = first === null ? 0 : (performance.now() - first) / 1000;
      if (secs > 0) $("tps").textContent = (tokens / secs).toFixed(1) + " tok/s";
    }
  } catch (e) {
    if (e.name === "AbortError") finish = "stopped";
    else showError(String(e.message || e));
  } finally {
    $("finish").textContent = finish || "–";
    if (isChat && text) chat.push({ role: "assistant", content: text });
    if (isChat) renderChat(null); else draw();
    $("send").disabled = false; $("stop").disabled = true;
    controller = null;
  }
}

async function loadModelName() {
  try {
    const r = await fetch("v1/models", { headers: headers() });
    if (r.ok) { const m = (await r.json()).data[0]; $("model").textContent = "model: " + m.id + " · ctx " + m.meta.n_ctx; }
    else $("model").textContent = r.status === 401 ? "model: (enter the API key)" : "model: unavailable (" + r.status + ")";
  } catch (e) { $("model").textContent = "model: server unreachable"; }
}

document.addEventListener("DOMContentLoaded", () => {
  $("api_key").value = sessionStorage.getItem(KEY_STORE) || "";
  $("api_key").addEventListener("change", () => { sessionStorage.setItem(KEY_STORE, $("api_key").value.trim()); loadModelName(); });
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => {
      $("completion-pane").hidden = mode() !== "completion";
      $("chat-pane").hidden = mode() !== "chat";
      $("output").hidden = mode() !== "completion";
    });
  }
  $("send").addEventListener("click", generate);
  $("stop").addEventListener("click", () => { if (controller) controller.abort(); });
  $("chat-input").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); generate(); } });
  loadModelName();
});
