// A small Rust syntax highlighter for the nanochat playground: one regex pass, HTML-escaped spans, no dependencies.
"use strict";
(function (global) {
  const KEYWORDS = "as async await break const continue crate dyn else enum extern false fn for if impl in let loop " +
    "match mod move mut pub ref return self Self static struct super trait true type unsafe use where while";
  const TYPES = "bool char str i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 String Vec Option " +
    "Result Box HashMap HashSet Some None Ok Err";
  const kw = new Set(KEYWORDS.split(" "));
  const ty = new Set(TYPES.split(" "));
  // Order matters: comments and strings first, so keywords inside them stay plain.
  const TOKEN = new RegExp([
    "(\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$))",            // 1 comment (an unterminated one runs to the end)
    "(b?r#*\"[\\s\\S]*?(?:\"#*|$)|b?\"(?:\\\\[\\s\\S]|[^\"\\\\])*(?:\"|$)|b?'(?:\\\\.|[^'\\\\])')", // 2 string / char
    "('[A-Za-z_]\\w*)",                                          // 3 lifetime
    "(#!?\\[[^\\]\\n]*\\]?)",                                    // 4 attribute
    "(\\b\\d[\\d_]*(?:\\.\\d[\\d_]*)?(?:[eE][+-]?\\d+)?(?:[iuf](?:8|16|32|64|128|size))?\\b|\\b0x[0-9a-fA-F_]+\\b)", // 5 number
    "([A-Za-z_]\\w*!)",                                          // 6 macro call
    "([A-Za-z_]\\w*)",                                           // 7 identifier
  ].join("|"), "g");
  const CLASSES = [null, "tok-com", "tok-str", "tok-life", "tok-attr", "tok-num", "tok-mac"];

  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function span(cls, text) { return '<span class="' + cls + '">' + escapeHtml(text) + "</span>"; }

  /** Rust source -> HTML with <span class="tok-..."> around keywords, types, strings, comments, numbers, macros. */
  function highlightRust(src) {
    let out = "", last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(src)) !== null) {
      if (m[0] === "") { TOKEN.lastIndex++; continue; }
      out += escapeHtml(src.slice(last, m.index));
      last = TOKEN.lastIndex;
      const group = m.findIndex((g, i) => i > 0 && g !== undefined);
      if (group === 7) {
        out += kw.has(m[0]) ? span("tok-kw", m[0]) : ty.has(m[0]) ? span("tok-ty", m[0]) : escapeHtml(m[0]);
      } else {
        out += span(CLASSES[group], m[0]);
      }
    }
    return out + escapeHtml(src.slice(last));
  }

  global.highlightRust = highlightRust;
  global.escapeHtml = escapeHtml;
})(typeof window !== "undefined" ? window : globalThis);
