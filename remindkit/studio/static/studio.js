// remindkit studio: the page's logic. Plain browser JavaScript, no build step; the editor
// itself is CodeMirror, bundled in editor.js (window.RemindkitEditor).
//
// Every keystroke schedules one check (debounced): the server lints the draft in its
// file's place and renders it for the chosen sample, and the answer updates the editor's
// marks, the findings, the phone and the variants. Answers to older drafts are dropped.
"use strict";

(() => {
  const DEBOUNCE_MS = 180;
  const Editor = window.RemindkitEditor;
  const data = JSON.parse(document.getElementById("studio-data").textContent);
  const token = document.querySelector('meta[name="remindkit-token"]').content;
  const nonce = document.querySelector('meta[name="csp-nonce"]').content;
  const $ = (id) => document.getElementById(id);

  const state = {
    templates: [],
    current: null, // {template_id, sha256, source (on disk), stage, samples, ...}
    sample: null,
    now: "",
    sequence: 0,
    timer: null,
    check: null,
  };

  // -- small helpers ----------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(path, body) {
    const options = { headers: { "X-Remindkit-Token": token } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let payload = {};
    try {
      payload = await response.json();
    } catch (error) {
      payload = { error: `服务器返回了无法读取的内容（${response.status}）` };
    }
    if (response.status === 401) {
      banner("访问令牌无效：工作台可能已重启，请重新打开 remindkit studio 打印的链接。");
    }
    return { ok: response.ok, status: response.status, data: payload };
  }

  function banner(message) {
    const box = $("banner");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function dirty() {
    return state.current !== null && Editor.getText(view) !== state.current.source;
  }

  function updateDirty() {
    $("dirty").hidden = !dirty();
  }

  // -- template list ----------------------------------------------------------------------
  async function loadTemplates() {
    const { ok, data: payload } = await api("/api/templates");
    if (!ok) {
      $("template-list").replaceChildren(el("p", { class: "hint", text: payload.error }));
      return;
    }
    state.templates = payload.templates;
    renderList();
  }

  function statusBadge(entry) {
    if (entry.errors) return el("span", { class: "badge badge-error", text: `${entry.errors} 错误` });
    if (entry.warnings) {
      return el("span", { class: "badge badge-warning", text: `${entry.warnings} 警告` });
    }
    return el("span", { class: "badge badge-ok", text: "通过" });
  }

  function renderList() {
    const stages = new Map();
    for (const entry of state.templates) {
      if (!stages.has(entry.stage)) stages.set(entry.stage, { label: entry.stage_label, groups: new Map() });
      const groups = stages.get(entry.stage).groups;
      if (!groups.has(entry.channel)) groups.set(entry.channel, { label: entry.channel_label, items: [] });
      groups.get(entry.channel).items.push(entry);
    }
    const list = [];
    for (const [stage, { label, groups }] of stages) {
      const channels = [];
      for (const [channel, group] of groups) {
        const items = group.items.map((entry) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                class: "template-item" + (state.current?.template_id === entry.template_id ? " active" : ""),
                "data-template": entry.template_id,
                title: entry.description,
                onclick: () => openTemplate(entry.template_id),
              },
              el("span", { class: "variant", text: `版本 ${entry.variant}` }),
              el(
                "span",
                { class: "item-meta" },
                statusBadge(entry),
                entry.longest_parts ? el("span", { class: "parts", text: `最长 ${entry.longest_parts} 条` }) : null,
              ),
            ),
          ),
        );
        channels.push(
          el(
            "div",
            { class: "channel", "data-group": `${stage}/${channel}` },
            el("div", { class: "channel-name", text: group.label || channel }),
            el("ul", {}, items),
          ),
        );
      }
      list.push(
        el(
          "section",
          { class: "stage", "data-stage": stage },
          el("h3", {}, label, label !== stage ? el("small", { text: stage }) : null),
          channels,
        ),
      );
    }
    $("template-list").replaceChildren(...list);
  }

  // -- opening a template -----------------------------------------------------------------
  async function openTemplate(templateId) {
    if (dirty() && !window.confirm("当前修改还没有保存，确定要离开吗？")) return;
    const { ok, data: payload } = await api(`/api/template?id=${encodeURIComponent(templateId)}`);
    if (!ok) {
      banner(payload.error);
      return;
    }
    banner("");
    state.current = payload;
    state.sample = payload.default_sample;
    state.now = "";
    $("template-title").textContent = `${payload.stage_label} · ${payload.channel_label} · 版本 ${payload.variant}`;
    $("template-desc").textContent = `${payload.template_id}　${payload.path}`;
    renderSamples();
    Editor.setText(view, payload.source);
    $("save").disabled = !data.writable;
    $("new-variant").disabled = !data.writable;
    $("sample").disabled = false;
    $("now").disabled = false;
    updateDirty();
    renderList();
    runCheck();
  }

  function renderSamples() {
    const select = $("sample");
    const files = state.current.samples.filter((s) => !s.worst_case);
    const worst = state.current.samples.filter((s) => s.worst_case);
    const option = (s) => el("option", { value: s.id, selected: s.id === state.sample }, `${s.label} · ${s.detail}`);
    select.replaceChildren(
      el("optgroup", { label: "样例借款人" }, files.map(option)),
      worst.length ? el("optgroup", { label: "最长情形（检查用）" }, worst.map(option)) : null,
    );
  }

  // -- checking the draft -------------------------------------------------------------------
  function scheduleCheck() {
    updateDirty();
    document.body.dataset.checking = "true";
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = null;
      runCheck();
    }, DEBOUNCE_MS);
  }

  async function runCheck() {
    if (!state.current) return;
    const sequence = ++state.sequence;
    const started = performance.now();
    document.body.dataset.checking = "true";
    $("check-summary").textContent = "正在检查…";
    const { ok, data: payload } = await api("/api/check", {
      template_id: state.current.template_id,
      source: Editor.getText(view),
      sample: state.sample,
      now: state.now || null,
    });
    if (sequence !== state.sequence || state.timer !== null) return; // a newer draft is coming
    document.body.dataset.checking = "false";
    if (!ok) {
      $("check-summary").textContent = payload.error || "检查失败";
      return;
    }
    state.check = payload;
    renderCheck(payload.check);
    renderPreview(payload.preview, $("phone-screen"), $("meter"));
    renderVariants(payload.variants);
    syncPickers(payload.sample, payload.preview.now);
    const elapsed = Math.round(performance.now() - started);
    document.body.dataset.checkedSequence = String(sequence);
    document.body.dataset.lastRoundTripMs = String(elapsed);
  }

  function syncPickers(sample, now) {
    $("zone").textContent = `（借款人所在时区 ${sample.timezone}）`;
    if (!state.now) $("now").value = now;
  }

  const SEVERITY_LABEL = { error: "错误", warning: "警告" };

  function renderCheck(check) {
    Editor.showFindings(view, check.findings);
    const parts = [];
    if (check.errors) parts.push(`${check.errors} 个错误`);
    if (check.warnings) parts.push(`${check.warnings} 个警告`);
    if (check.explained) parts.push(`${check.explained} 个已说明理由的警告`);
    const summary = $("check-summary");
    summary.textContent = parts.length ? parts.join("，") : "没有发现问题";
    summary.className = "summary " + (check.errors ? "is-error" : check.warnings ? "is-warning" : "is-ok");
    const items = check.findings.map((f) => {
      const kind = f.explained ? "explained" : f.severity;
      return el(
        "li",
        { class: `finding finding-${kind}`, "data-rule": f.rule, "data-line": f.line },
        el("span", { class: `badge badge-${kind === "explained" ? "muted" : kind}`, text: f.explained ? "已说明" : SEVERITY_LABEL[f.severity] }),
        f.line
          ? el("button", { type: "button", class: "line-link", onclick: () => Editor.goToLine(view, f.line), text: `第 ${f.line} 行` })
          : el("span", { class: "line-link", text: f.template_id }),
        el("code", { class: "rule", text: f.rule }),
        el("span", { class: "message", text: f.message }),
        f.explained ? el("span", { class: "reason", text: `理由：${f.explained}` }) : null,
        kind === "warning" && data.writable
          ? el("button", { type: "button", class: "explain", onclick: () => explainWarning(f.rule), text: "说明理由…" })
          : null,
      );
    });
    $("findings").replaceChildren(...items);
  }

  // A warning accepted on purpose: its reason goes into the metadata (lint: {rule: "why"}),
  // as one edit in the editor; the writer still reviews the diff before saving.
  async function explainWarning(rule) {
    const reason = window.prompt(`为什么可以接受这条警告（${rule}）？理由会写进元数据的 lint，供审核查看。`);
    if (!reason || !reason.trim()) return;
    const { ok, data: payload } = await api("/api/explain", {
      template_id: state.current.template_id,
      source: Editor.getText(view),
      rule,
      reason,
    });
    if (!ok) {
      banner(payload.error);
      return;
    }
    banner("");
    Editor.replaceText(view, payload.source);
  }

  // -- the phone ----------------------------------------------------------------------------
  function renderPreview(preview, screen, meter) {
    screen.classList.remove("screen-sms", "screen-push", "screen-error");
    screen.classList.add(`screen-${preview.kind}`);
    if (preview.kind === "error") {
      screen.replaceChildren(
        el("div", { class: "render-error" }, el("strong", { text: "无法预览" }),
          el("p", { text: preview.line ? `第 ${preview.line} 行：${preview.message}` : preview.message })),
      );
      if (meter) meter.replaceChildren();
      return;
    }
    if (preview.kind === "push") {
      screen.replaceChildren(lockScreen(preview));
      if (meter) meter.replaceChildren(el("span", { text: "推送通知 · 锁屏显示" }));
      return;
    }
    screen.replaceChildren(smsThread(preview));
    if (meter) meter.replaceChildren(...smsMeter(preview));
  }

  function smsThread(preview) {
    const bubble = el("div", { class: "bubble", "data-testid": "sms-bubble" });
    let offset = 0;
    preview.parts.forEach((part, index) => {
      if (index > 0) {
        bubble.append(el("span", { class: "part-break", "data-testid": "part-break", text: `第 ${index + 1} 条从这里开始` }));
      }
      const partNode = el("span", { class: "sms-part", "data-part": index + 1 });
      const signatureEnd = Math.max(0, Math.min(part.length, preview.signature.length - offset));
      if (signatureEnd > 0) partNode.append(el("span", { class: "signature", text: part.slice(0, signatureEnd) }));
      partNode.append(part.slice(signatureEnd));
      bubble.append(partNode);
      offset += part.length;
    });
    return el(
      "div",
      { class: "thread" },
      el("div", { class: "thread-head", text: "短信" }),
      el("div", { class: "thread-time", text: preview.now.replace("T", " ") }),
      bubble,
    );
  }

  function smsMeter(preview) {
    const over = preview.parts_count > preview.max_parts;
    const items = [
      el("span", { "data-testid": "chars", text: `${preview.chars} 字（含签名）` }),
      el("span", { text: preview.encoding }),
      el("span", { class: over ? "parts over" : preview.parts_count > 1 ? "parts multi" : "parts", "data-testid": "parts", text: `${preview.parts_count} 条` }),
    ];
    if (over) items.push(el("span", { class: "note", text: `超过元数据允许的 ${preview.max_parts} 条` }));
    if (preview.segments !== preview.carrier_parts) {
      items.push(el("span", { class: "note", text: `国内运营商计 ${preview.carrier_parts} 条，Twilio 计 ${preview.segments} 段` }));
    }
    return items;
  }

  function lockScreen(preview) {
    const [hours, minutes] = preview.time.split(":");
    const date = new Date(`${preview.now}:00`);
    const weekday = "日一二三四五六"[date.getDay()];
    return el(
      "div",
      { class: "lock" },
      el("div", { class: "lock-time", text: `${hours}:${minutes}` }),
      el("div", { class: "lock-date", text: `${date.getMonth() + 1}月${date.getDate()}日 星期${weekday}` }),
      el(
        "div",
        { class: "notification", "data-testid": "push-card" },
        el("div", { class: "notification-head" },
          el("span", { class: "app-icon", text: (preview.app_name || "App").slice(0, 1) }),
          el("span", { class: "app-name", text: preview.app_name }),
          el("span", { class: "when", text: "现在" })),
        el("div", { class: "notification-title", text: preview.title }),
        el("div", { class: "notification-body", text: preview.body }),
      ),
    );
  }

  function renderVariants(variants) {
    if (variants.length < 2) {
      $("variants").replaceChildren(
        el("p", { class: "hint", text: "这个模板只有一个版本。要做 A/B 测试，可点“新建版本”复制一份再改写。" }),
      );
      return;
    }
    const cards = variants.map((variant) => {
      const screen = el("div", { class: "screen screen-small" });
      renderPreview(variant, screen, null);
      const facts = variant.kind === "sms" ? `${variant.chars} 字 · ${variant.parts_count} 条` : "";
      return el(
        "article",
        { class: "variant-card" + (variant.template_id === state.current.template_id ? " current" : ""), "data-variant": variant.variant },
        el("header", {}, el("strong", { text: `版本 ${variant.variant}` }),
          variant.template_id === state.current.template_id ? el("span", { class: "tag tag-muted", text: "正在编辑" }) : null,
          el("span", { class: "facts", text: facts })),
        screen,
      );
    });
    $("variants").replaceChildren(...cards);
  }

  // -- saving -------------------------------------------------------------------------------
  async function openSave() {
    if (!state.current || !data.writable) return;
    const { ok, data: payload } = await api("/api/diff", {
      template_id: state.current.template_id,
      source: Editor.getText(view),
    });
    if (!ok) {
      banner(payload.error);
      return;
    }
    const blockers = $("save-blockers");
    blockers.replaceChildren(...payload.check.blockers.map((b) => el("p", { text: b })));
    blockers.hidden = payload.check.can_save;
    $("save-diff").replaceChildren(
      ...(payload.changed
        ? payload.diff.map((line) => el("span", { class: `diff-${line.kind}`, text: line.text + "\n" }))
        : [el("span", { class: "diff-same", text: "与磁盘上的文件相同，没有修改。" })]),
    );
    $("save-message").textContent = "";
    $("save-confirm").disabled = !payload.check.can_save || !payload.changed;
    $("save-dialog").showModal();
  }

  async function confirmSave() {
    const source = Editor.getText(view);
    $("save-confirm").disabled = true;
    const { ok, status, data: payload } = await api("/api/save", {
      template_id: state.current.template_id,
      source,
      base_sha256: state.current.sha256,
    });
    if (!ok) {
      $("save-message").textContent = payload.error + (status === 422 ? " " + payload.check.blockers.join(" ") : "");
      return;
    }
    state.current.source = source;
    state.current.sha256 = payload.sha256;
    state.templates = state.templates.map((e) => (e.template_id === payload.entry.template_id ? payload.entry : e));
    $("save-dialog").close();
    updateDirty();
    renderList();
    banner("");
    flash(`已保存 ${state.current.path}`);
  }

  function flash(message) {
    const summary = $("check-summary");
    summary.textContent = message;
    summary.className = "summary is-ok";
  }

  // -- new variant ----------------------------------------------------------------------------
  function openVariant() {
    if (!state.current) return;
    $("variant-from").textContent = state.current.template_id;
    $("variant-name").value = "";
    $("variant-message").textContent = "";
    $("variant-dialog").showModal();
    $("variant-name").focus();
  }

  async function confirmVariant() {
    const variant = $("variant-name").value.trim();
    const { ok, data: payload } = await api("/api/variants", {
      template_id: state.current.template_id,
      variant,
    });
    if (!ok) {
      $("variant-message").textContent = payload.error;
      return;
    }
    $("variant-dialog").close();
    await loadTemplates();
    await openTemplate(payload.template_id);
  }

  // -- wiring -------------------------------------------------------------------------------
  const view = Editor.createEditor($("editor"), {
    doc: "",
    nonce,
    vocabulary: data.vocabulary,
    label: "模板内容",
    onChange: scheduleCheck,
  });

  $("sample").addEventListener("change", (event) => {
    state.sample = event.target.value;
    state.now = "";
    runCheck();
  });
  $("now").addEventListener("change", (event) => {
    state.now = event.target.value;
    runCheck();
  });
  $("save").addEventListener("click", openSave);
  $("save-cancel").addEventListener("click", () => $("save-dialog").close());
  $("save-confirm").addEventListener("click", confirmSave);
  $("new-variant").addEventListener("click", openVariant);
  $("variant-cancel").addEventListener("click", () => $("variant-dialog").close());
  $("variant-confirm").addEventListener("click", confirmVariant);
  $("variant-name").addEventListener("keydown", (event) => {
    if (event.key === "Enter") confirmVariant();
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      openSave();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) event.preventDefault();
  });

  loadTemplates();
})();
