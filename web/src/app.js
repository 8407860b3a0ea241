// WebSsl Assistant browser app: upload images, ask over the SignalR hub, render streamed answers as sanitized markdown.
// Plain modern JavaScript with no build step; the three libraries come from npm (vendored at build time, never a CDN).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    conversationId: null,
    turns: [],
    pending: [],          // attached images: { id, name, url (an image's own blob: URL), page (a PDF page's number) } once uploaded
    uploading: 0,
    subscription: null,   // the answer stream being received
    info: null,
    apiKey: localStorage.getItem("webssl.apiKey") || "",
  };

  // ---- server calls -------------------------------------------------------------------------------------------------

  // The key travels only in the Authorization header (and, for the hub's WebSocket, where browsers cannot set headers,
  // in the handshake's query, which the server keeps out of its log): never in a page URL, an <img src> or a link.
  async function authorizedFetch(path, init) {
    const headers = new Headers(init.headers || {});
    if (state.apiKey) headers.set("Authorization", `Bearer ${state.apiKey}`);
    const response = await fetch(path, { ...init, headers });
    if (response.status === 401 && await askForKey()) return authorizedFetch(path, init);
    return response;
  }

  async function api(path, init = {}) {
    const response = await authorizedFetch(path, init);
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.error?.message || problem.title || detail;
      } catch { /* not JSON */ }
      throw new Error(detail);
    }
    return response.status === 204 ? null : response.json();
  }

  function askForKey() {
    return new Promise((resolve) => {
      const dialog = $("key-dialog");
      dialog.returnValue = "";
      dialog.onclose = () => {
        const ok = dialog.returnValue === "ok" && $("key-input").value.trim() !== "";
        if (ok) {
          state.apiKey = $("key-input").value.trim();
          localStorage.setItem("webssl.apiKey", state.apiKey);
        }
        resolve(ok);
      };
      $("key-cancel").onclick = () => dialog.close("cancel");
      dialog.showModal();
    });
  }

  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/hubs/assistant", { accessTokenFactory: () => state.apiKey })
    .withAutomaticReconnect()
    .build();

  async function connect() {
    for (;;) {
      try {
        await connection.start();
        return;
      } catch (e) {
        if (String(e).includes("401") && await askForKey()) continue;
        setStatus(`Cannot reach the server: ${e.message || e}`);
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  }

  // ---- model status -------------------------------------------------------------------------------------------------

  function setStatus(text, ready = false) {
    const status = $("model-status");
    status.textContent = text;
    status.classList.toggle("ready", ready);
  }

  async function pollInfo() {
    try {
      state.info = await api("/api/info");
      const notice = $("model-notice");
      notice.textContent = state.info.notice || "";
      notice.hidden = !state.info.notice;
      if (state.info.status === "ready") {
        setStatus(state.info.description || state.info.model, true);
        $("max-tokens").max = state.info.maxAnswerTokens;
        loadExamples();
        return;
      }
      setStatus(state.info.status === "failed" ? `Models failed to load: ${state.info.error}` : "Loading models…");
    } catch (e) {
      setStatus(`Server unavailable: ${e.message}`);
    }
    setTimeout(pollInfo, 1500);
  }

  // ---- examples -----------------------------------------------------------------------------------------------------

  // Examples come with their known answer (the demo's synthetic ground truth): one click asks the question about the
  // image in a new chat, and the answer is shown with the ground truth beside it, right or wrong.
  async function loadExamples() {
    let examples;
    try {
      examples = await api("/api/examples");
    } catch {
      return;
    }
    $("examples").hidden = examples.length === 0;
    $("example-list").replaceChildren(...examples.map((example) => {
      const li = document.createElement("li");
      const b = button("", "secondary example", () => {
        newChat();
        ask({ text: example.question, imageIds: [example.imageId], example });
      }, `Ask “${example.question}” about example image (${example.category})`);
      const img = document.createElement("img");
      img.alt = "";
      imageUrl(example.imageId).then((url) => { img.src = url; }, () => {});
      const text = document.createElement("span");
      text.textContent = example.question;
      b.append(img, text);
      li.append(b);
      return li;
    }));
  }

  // The relaxed rule the demo's scores use (ChartQA's, as AnswerScoring.RelaxedCorrect in WebSsl.Training): numbers
  // ("12.5", "40%") within 5% of a non-zero answer, anything else a case-insensitive exact match.
  function relaxedCorrect(prediction, target) {
    const number = (text) => {
      const percent = text.endsWith("%");
      const body = percent ? text.replace(/%+$/, "") : text;
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return null;
      return percent ? Number(body) / 100 : Number(body);
    };
    const p = number(prediction.trim());
    const t = number(target.trim());
    if (p !== null && t !== null && t !== 0) return Math.abs(p - t) / Math.abs(t) <= 0.05;
    return prediction.trim().toLowerCase() === target.trim().toLowerCase();
  }

  function truthBadge(turn) {
    const right = relaxedCorrect(turn.answer || "", turn.example.answer);
    const span = badge(`${right ? "✓ right" : "✗ wrong"}: the known answer is ${turn.example.answer}`, `truth ${right ? "right" : "wrong"}`);
    span.setAttribute("aria-label", `${right ? "Right" : "Wrong"}: the known answer is ${turn.example.answer}`);
    return span;
  }

  // ---- conversations ------------------------------------------------------------------------------------------------

  async function loadConversations() {
    let list;
    try {
      list = await api("/api/conversations");
    } catch (e) {
      showError(`Could not list conversations: ${e.message}`);
      return;
    }
    const ul = $("conversations");
    ul.replaceChildren(...list.map((c) => {
      const li = document.createElement("li");
      li.className = "conversation" + (c.id === state.conversationId ? " active" : "");
      li.dataset.id = c.id;
      const open = button(c.title, "open", () => openConversation(c.id));
      open.setAttribute("aria-current", c.id === state.conversationId ? "true" : "false");
      const rename = button("✎", "icon", () => renameConversation(c), `Rename “${c.title}”`);
      const remove = button("✕", "icon", () => deleteConversation(c), `Delete “${c.title}”`);
      li.append(open, rename, remove);
      return li;
    }));
  }

  async function openConversation(id) {
    if (state.subscription) stop();
    try {
      const conversation = await api(`/api/conversations/${encodeURIComponent(id)}`);
      state.conversationId = conversation.id;
      state.turns = conversation.turns;
      $("title").textContent = conversation.title;
      history.replaceState(null, "", `#${conversation.id}`);
      renderAll();
      loadConversations();
      closeSidebarOnNarrow();
    } catch (e) {
      showError(`Could not open the conversation: ${e.message}`);
      newChat();
    }
  }

  async function renameConversation(c) {
    const title = prompt("New title", c.title);
    if (!title || !title.trim()) return;
    try {
      await api(`/api/conversations/${encodeURIComponent(c.id)}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title }),
      });
      if (c.id === state.conversationId) $("title").textContent = title.trim();
      loadConversations();
    } catch (e) {
      showError(`Could not rename: ${e.message}`);
    }
  }

  async function deleteConversation(c) {
    if (!confirm(`Delete “${c.title}”?`)) return;
    try {
      await api(`/api/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
      if (c.id === state.conversationId) newChat();
      loadConversations();
    } catch (e) {
      showError(`Could not delete: ${e.message}`);
    }
  }

  function newChat() {
    if (state.subscription) stop();
    state.conversationId = null;
    state.turns = [];
    $("title").textContent = "New chat";
    history.replaceState(null, "", location.pathname);
    renderAll();
    loadConversations();
    $("question").focus();
  }

  // ---- rendering ----------------------------------------------------------------------------------------------------

  function button(text, className, onClick, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  // Stored images are fetched with the key in the header and shown from blob: URLs, one per image for the page's life.
  const imageUrls = new Map();

  function imageUrl(id) {
    if (!imageUrls.has(id)) {
      imageUrls.set(id, authorizedFetch(`/api/images/${encodeURIComponent(id)}`, {}).then(async (response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        return URL.createObjectURL(await response.blob());
      }).catch((e) => {
        imageUrls.delete(id);
        throw e;
      }));
    }
    return imageUrls.get(id);
  }

  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });

  // Model output is untrusted: markdown to HTML, then DOMPurify removes anything that could run (scripts, handlers,
  // javascript: URLs), form controls (an answer could draw a fake key prompt) and prefixes id/name with "user-content-"
  // so an answer cannot clobber the page's own elements or globals. The page's Content-Security-Policy forbids inline
  // script as a second line of defence.
  const sanitizeOptions = {
    USE_PROFILES: { html: true },
    SANITIZE_NAMED_PROPS: true,
    FORBID_TAGS: ["form", "input", "button", "select", "option", "optgroup", "textarea", "datalist", "fieldset", "output", "dialog", "style"],
    FORBID_ATTR: ["form", "formaction", "style"],
  };

  function markdown(text) {
    return DOMPurify.sanitize(marked.parse(text, { gfm: true, breaks: true }), sanitizeOptions);
  }

  function renderAll() {
    const messages = $("messages");
    messages.replaceChildren(...state.turns.flatMap((turn, i) => [userMessage(turn), assistantMessage(turn, i === state.turns.length - 1)]));
    if (state.turns.length === 0) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "Drop a chart, a scan or a page here (or paste, or use the paperclip), then ask about it.";
      messages.append(empty);
    }
    messages.scrollTop = messages.scrollHeight;
  }

  function userMessage(turn) {
    const article = document.createElement("article");
    article.className = "message user";
    article.setAttribute("aria-label", "Your question");
    if (turn.imageIds.length > 0) {
      const thumbs = document.createElement("div");
      thumbs.className = "thumbs";
      for (const id of turn.imageIds) {
        const a = document.createElement("a");
        a.target = "_blank";
        const img = document.createElement("img");
        img.alt = "attached image";
        img.className = "thumb";
        imageUrl(id).then((url) => {
          a.href = url;
          img.src = url;
        }, (e) => {
          img.alt = `image unavailable: ${e.message}`;
        });
        a.append(img);
        thumbs.append(a);
      }
      article.append(thumbs);
    }
    const p = document.createElement("div");
    p.className = "text";
    p.textContent = turn.question;
    article.append(p);
    return article;
  }

  function assistantMessage(turn, isLast) {
    const article = document.createElement("article");
    article.className = `message assistant ${turn.status}`;
    article.setAttribute("aria-label", "Answer");
    article.dataset.turn = turn.id || "";
    const phase = document.createElement("p");
    phase.className = "phase";
    phase.setAttribute("role", "status");
    const body = document.createElement("div");
    body.className = "markdown";
    body.innerHTML = markdown(turn.answer || "");
    article.append(phase, body);
    const footer = document.createElement("div");
    footer.className = "footer";
    if (turn.example && turn.status === "done") footer.append(truthBadge(turn));
    if (turn.status === "stopped") footer.append(badge("stopped"));
    if (turn.status === "failed" || turn.status === "interrupted") footer.append(badge(turn.error || turn.status, "error"));
    if (turn.details) footer.append(timing(turn.details));
    if (isLast && turn.status !== "running") footer.append(button("Regenerate", "secondary regenerate", regenerate));
    article.append(footer);
    return article;
  }

  function badge(text, kind = "") {
    const span = document.createElement("span");
    span.className = `badge ${kind}`;
    span.textContent = text;
    return span;
  }

  function timing(d) {
    const details = document.createElement("details");
    details.className = "timing";
    const summary = document.createElement("summary");
    const t = d.timings;
    const n = d.usage.generatedTokens;
    summary.textContent = `${(t.totalMs / 1000).toFixed(1)} s · ${n} ${n === 1 ? "token" : "tokens"}` + (t.tokensPerSecond > 0 ? ` · ${t.tokensPerSecond.toFixed(1)} tok/s` : "");
    const dl = document.createElement("dl");
    const rows = [
      ["First token", `${t.firstTokenMs.toFixed(0)} ms`],
      ["Image encoding", `${t.encodeMs.toFixed(0)} ms`],
      ["Prompt decode", `${t.prefillMs.toFixed(0)} ms`],
      ["Prompt tokens", `${d.usage.promptTokens} (${d.usage.imageTokens} image, ${d.usage.cachedPromptTokens} cached)`],
      ["Finish", d.finishReason],
      ...d.images.map((img) => [`Image ${img.index + 1}`,
        `${img.width}×${img.height} → ${img.resolution}px${img.grid ? ` + ${img.grid} tiles (${img.views} views)` : ""} ${img.preprocess}, ${img.tokens} tokens, ${img.milliseconds.toFixed(0)} ms${img.cached ? " (cached)" : ""}`]),
    ];
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    }
    details.append(summary, dl);
    return details;
  }

  // ---- attachments --------------------------------------------------------------------------------------------------

  // An image is one attachment; a PDF is uploaded once and comes back as its pages, each an attachment of its own, so
  // the question is asked about the pages the user keeps (remove the others with ×).
  async function attach(files) {
    for (const file of files) {
      const pdf = file.type === "application/pdf" || /\.pdf$/i.test(file.name || "");
      if (!pdf && !file.type.startsWith("image/") && file.type !== "") {
        showError(`${file.name}: not an image or a PDF (${file.type}).`);
        continue;
      }
      const form = new FormData();
      form.append("file", file, file.name || "pasted image");
      state.uploading++;
      renderAttachments();
      try {
        const stored = await api("/api/images", { method: "POST", body: form });
        if (Array.isArray(stored.pages)) {
          for (const page of stored.pages) {
            addPending({ id: page.id, name: `${stored.name} page ${page.page}`, page: page.page, url: null });
          }
        } else {
          addPending({ id: stored.id, name: file.name || "pasted image", url: URL.createObjectURL(file) });
        }
        hideError();
      } catch (e) {
        showError(`${file.name || "image"}: ${e.message}`);
      } finally {
        state.uploading--;
        renderAttachments();
      }
    }
  }

  function addPending(item) {
    if (!state.pending.some((p) => p.id === item.id)) state.pending.push(item);
  }

  function renderAttachments() {
    const ul = $("attachments");
    ul.replaceChildren(...state.pending.map((p) => {
      const li = document.createElement("li");
      const img = document.createElement("img");
      img.alt = p.name;
      img.title = p.name;
      img.className = "thumb";
      // A page's thumbnail is the stored page itself (fetched with the key), an image's the file the user picked.
      if (p.url) img.src = p.url;
      else imageUrl(p.id).then((url) => { img.src = url; }, () => {});
      const remove = button("×", "icon remove", () => {
        if (p.url) URL.revokeObjectURL(p.url);
        state.pending = state.pending.filter((x) => x !== p);
        renderAttachments();
      }, `Remove ${p.name}`);
      li.append(img, remove);
      if (p.page) {
        const label = document.createElement("span");
        label.className = "page-label";
        label.textContent = `p. ${p.page}`;
        li.append(label);
      }
      return li;
    }));
    if (state.uploading > 0) {
      const li = document.createElement("li");
      li.className = "uploading";
      li.textContent = "Uploading…";
      ul.append(li);
    }
    const most = state.info?.maxImagesPerQuestion;
    const tooMany = most && state.pending.length > most;
    const note = $("attachments-note");
    note.hidden = !tooMany;
    note.textContent = tooMany ? `${state.pending.length} pages or images attached; a question reads at most ${most}: remove the ones you don't need.` : "";
    $("send").disabled = state.uploading > 0 || Boolean(tooMany);
  }

  function showError(text) {
    const p = $("composer-error");
    p.textContent = text;
    p.hidden = false;
  }

  function hideError() {
    $("composer-error").hidden = true;
  }

  // ---- asking -------------------------------------------------------------------------------------------------------

  function send(event) {
    event?.preventDefault();
    if (state.subscription || state.uploading > 0) return;
    const text = $("question").value.trim();
    if (!text && state.pending.length === 0) return;
    const imageIds = state.pending.map((p) => p.id);
    ask({ text, imageIds });
    $("question").value = "";
    state.pending.forEach((p) => { if (p.url) URL.revokeObjectURL(p.url); });
    state.pending = [];
    renderAttachments();
  }

  function regenerate() {
    if (state.subscription || state.turns.length === 0) return;
    const last = state.turns[state.turns.length - 1];
    state.turns.pop();
    ask({ text: last.question, imageIds: last.imageIds, regenerate: true });
  }

  function ask({ text, imageIds, regenerate = false, example = null }) {
    hideError();
    const turn = { id: null, question: text, imageIds, answer: "", status: "running", details: null, example };
    state.turns.push(turn);
    renderAll();
    const article = $("messages").lastElementChild;
    const phase = article.querySelector(".phase");
    const body = article.querySelector(".markdown");
    phase.textContent = imageIds.length > 0 ? `Reading ${imageIds.length === 1 ? "image" : `${imageIds.length} images`}…` : "Thinking…";
    let pendingRender = false;
    const render = () => {
      pendingRender = false;
      body.innerHTML = markdown(turn.answer);
      const messages = $("messages");
      messages.scrollTop = messages.scrollHeight;
    };
    setBusy(true);
    const request = {
      conversationId: state.conversationId,
      text,
      imageIds,
      task: $("task").value,
      regenerate,
      maxTokens: Number($("max-tokens").value) || undefined,
      temperature: Number($("temperature").value) || 0,
      ignoreEos: $("ignore-eos").checked,
    };
    const finish = (status, error) => {
      turn.status = status;
      if (error) turn.error = error;
      state.subscription = null;
      setBusy(false);
      renderAll();
      loadConversations();
    };
    state.subscription = connection.stream("Ask", request).subscribe({
      next: (e) => {
        switch (e.type) {
          case "started":
            turn.id = e.turnId;
            article.dataset.turn = e.turnId;
            if (state.conversationId !== e.conversationId) {
              state.conversationId = e.conversationId;
              $("title").textContent = e.title;
              history.replaceState(null, "", `#${e.conversationId}`);
              loadConversations();
            }
            break;
          case "image-processed":
            phase.textContent = `Read image ${e.image.index + 1}: ${e.image.width}×${e.image.height} → ${e.image.tokens} tokens in ${e.image.milliseconds.toFixed(0)} ms`;
            break;
          case "token":
            phase.textContent = "";
            article.classList.add("streaming");
            turn.answer += e.text;
            if (!pendingRender) {
              pendingRender = true;
              requestAnimationFrame(render);
            }
            break;
          case "done":
            turn.details = e.done;
            finish("done");
            break;
          case "error":
            finish("failed", e.message);
            break;
        }
      },
      complete: () => { if (turn.status === "running") finish("stopped"); },
      error: (err) => finish("failed", String(err.message || err)),
    });
  }

  function stop() {
    const subscription = state.subscription;
    if (!subscription) return;
    // Disposing the stream cancels the generation on the server, which keeps the text so far as a stopped answer.
    subscription.dispose();
    const turn = state.turns[state.turns.length - 1];
    if (turn && turn.status === "running") {
      turn.status = "stopped";
    }
    state.subscription = null;
    setBusy(false);
    renderAll();
    setTimeout(loadConversations, 300);
  }

  function setBusy(busy) {
    $("send").hidden = busy;
    $("stop").hidden = !busy;
    if (busy) $("stop").focus();
    else if (document.activeElement === document.body || document.activeElement === $("stop")) $("question").focus();
  }

  // ---- layout and input ---------------------------------------------------------------------------------------------

  function closeSidebarOnNarrow() {
    document.body.classList.remove("sidebar-open");
    $("toggle-sidebar").setAttribute("aria-expanded", "false");
  }

  function wire() {
    $("composer").addEventListener("submit", send);
    $("stop").addEventListener("click", stop);
    $("new-chat").addEventListener("click", newChat);
    $("file-input").addEventListener("change", (e) => {
      attach([...e.target.files]);
      e.target.value = "";
    });
    $("question").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && state.subscription) stop();
    });
    $("question").addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
      if (files.length > 0) {
        e.preventDefault();
        attach(files);
      }
    });
    let depth = 0;
    document.addEventListener("dragenter", (e) => {
      if (![...e.dataTransfer.types].includes("Files")) return;
      depth++;
      $("drop-hint").hidden = false;
    });
    document.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) $("drop-hint").hidden = true;
    });
    document.addEventListener("dragover", (e) => e.preventDefault());
    document.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0;
      $("drop-hint").hidden = true;
      attach([...e.dataTransfer.files]);
    });
    $("toggle-sidebar").addEventListener("click", () => {
      const open = document.body.classList.toggle("sidebar-open");
      $("toggle-sidebar").setAttribute("aria-expanded", String(open));
    });
    connection.onreconnecting(() => setStatus("Reconnecting…"));
    connection.onreconnected(() => pollInfo());
  }

  async function main() {
    wire();
    renderAll();
    await connect();
    pollInfo();
    await loadConversations();
    const id = location.hash.slice(1);
    if (id) await openConversation(id);
  }

  main();
})();
