// Live preview (served by `invoke serve` only, never part of the book): reload this page
// when a rebuild changed it or a file it uses, and show build problems over the page.
(() => {
  "use strict";
  const script = document.currentScript;
  const page = script.dataset.page;
  const servedAt = Number(script.dataset.generation);

  // The site files this page is made of: itself, its style sheets and its images.
  function uses() {
    const names = [page];
    for (const el of document.querySelectorAll("link[rel=stylesheet][href], img[src]")) {
      const url = new URL(el.getAttribute(el.tagName === "IMG" ? "src" : "href"), location.href);
      if (url.origin === location.origin) names.push(decodeURIComponent(url.pathname.slice(1)));
    }
    return names;
  }

  const STYLE = `
    #press-problems { position: fixed; inset: auto 0 0 0; max-height: 70vh; overflow: auto;
      z-index: 2147483647; margin: 0; padding: 1rem 1.25rem 1.25rem;
      background: #2b0f12; color: #fbeaea; border-top: 4px solid #e0565b;
      font: 14px/1.45 ui-monospace, "DejaVu Sans Mono", monospace;
      box-shadow: 0 -6px 24px rgba(0, 0, 0, 0.35); }
    #press-problems h2 { font: 600 15px/1.3 system-ui, sans-serif; margin: 0 0 0.2rem; color: #fff; }
    #press-problems .press-note { font: 13px/1.4 system-ui, sans-serif; margin: 0 0 0.8rem; opacity: 0.8; }
    #press-problems ol { list-style: none; margin: 0; padding: 0; }
    #press-problems li { margin: 0 0 0.7rem; white-space: pre-wrap; }
    #press-problems .press-where { color: #ffd28a; }
    #press-problems .press-code { color: #ff9d9f; font-weight: 700; }
    #press-problems .press-hint { display: block; padding-left: 2ch; opacity: 0.8; }`;

  function text(tag, className, content) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = content;
    return el;
  }

  function show(problems) {
    document.getElementById("press-problems")?.remove();
    if (!problems.length) return;
    const panel = document.createElement("aside");
    panel.id = "press-problems";
    panel.setAttribute("role", "alert");
    const style = document.createElement("style");
    style.textContent = STYLE;
    const errors = problems.filter((p) => p.severity === "error").length;
    const heading = `The book did not build: ${errors} ${errors === 1 ? "error" : "errors"}`;
    panel.append(style, text("h2", "", heading),
      text("p", "press-note", "The page shows the last good build. Save a fix and it updates by itself."));
    const list = document.createElement("ol");
    for (const p of problems) {
      const item = document.createElement("li");
      item.append(text("span", "press-where", `${p.where}:`), " ",
        text("span", "press-code", p.code), ` ${p.message}`);
      if (p.hint) item.append(text("span", "press-hint", `hint: ${p.hint}`));
      list.append(item);
    }
    panel.append(list);
    document.body.append(panel);
  }

  const events = new EventSource("/__press/events");
  events.onmessage = (event) => {
    const state = JSON.parse(event.data);
    show(state.problems);
    const stale = uses().some((name) => (state.versions[name] || 0) > servedAt);
    if (stale && !state.problems.some((p) => p.severity === "error")) {
      location.reload();
      return;
    }
    // The build this page is up to date with (tests and curious authors can read it).
    document.documentElement.dataset.pressGeneration = state.generation;
  };
})();
