// The studio's template editor: CodeMirror 6 with line numbers, Jinja highlighting, lint
// findings marked on their lines, and completion of the content team's vocabulary.
//
// `node frontend/build.mjs` bundles this file into remindkit/studio/static/editor.js, an
// IIFE that defines `window.RemindkitEditor`, so an installed remindkit serves the editor
// without npm or any network. The studio's own page logic (studio.js) is not bundled.

import { autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { closePercentBrace, jinjaCompletionSource, jinjaLanguage } from "@codemirror/lang-jinja";
import {
  bracketMatching,
  defaultHighlightStyle,
  LanguageSupport,
  syntaxHighlighting,
} from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

const SEVERITY = { error: "error", warning: "warning", explained: "info" };

function completions(vocabulary) {
  const variables = Object.keys(vocabulary.names).map((label) => ({ label, type: "variable" }));
  const filters = vocabulary.filters.map((label) => ({ label, type: "function" }));
  return jinjaCompletionSource({
    variables: [...variables, ...filters],
    properties: (path) =>
      (vocabulary.names[path[0]] || []).map((label) => ({ label, type: "property" })),
  });
}

function extensions(options) {
  const jinja = new LanguageSupport(jinjaLanguage, [closePercentBrace]);
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    jinja,
    autocompletion({ override: [completions(options.vocabulary)] }),
    lintGutter(),
    EditorView.lineWrapping,
    EditorView.cspNonce.of(options.nonce || ""),
    EditorView.contentAttributes.of({ "aria-label": options.label || "模板" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) options.onChange(update.state.doc.toString());
    }),
    keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap, ...searchKeymap]),
  ];
}

/** An editor in `parent`; `options`: {doc, onChange(text), vocabulary, nonce, label}. */
export function createEditor(parent, options) {
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: options.doc || "", extensions: extensions(options) }),
  });
  view.remindkitOptions = options;
  return view;
}

/** Replace the whole text (another template opened): a fresh state, so undo starts anew. */
export function setText(view, doc) {
  view.setState(EditorState.create({ doc, extensions: extensions(view.remindkitOptions) }));
}

/** Replace the whole text as one edit the writer can undo (a reason written into the
 * metadata, for instance). */
export function replaceText(view, doc) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } });
}

export function getText(view) {
  return view.state.doc.toString();
}

/** Mark findings `{line, rule, severity, message, explained}` on their lines (1-based). */
export function showFindings(view, findings) {
  const doc = view.state.doc;
  const diagnostics = findings
    .filter((f) => f.line >= 1 && f.line <= doc.lines)
    .map((f) => {
      const line = doc.line(f.line);
      return {
        from: line.from,
        to: line.to,
        severity: SEVERITY[f.explained ? "explained" : f.severity] || "info",
        source: f.rule,
        message: f.explained ? `${f.message}（已说明理由：${f.explained}）` : f.message,
      };
    });
  view.dispatch(setDiagnostics(view.state, diagnostics));
}

/** Put the cursor at the start of `line` (1-based) and scroll it into view. */
export function goToLine(view, line) {
  const target = view.state.doc.line(Math.max(1, Math.min(line, view.state.doc.lines)));
  view.dispatch({ selection: { anchor: target.from }, scrollIntoView: true });
  view.focus();
}
