// Pure sanitizing of model-written Markdown before it is previewed: no images (they would be
// fetched: a way for text to leak out), no raw HTML. Code is left exactly as written.

const FENCE = /^( {0,3})(`{3,}|~{3,})/;

function sanitizeText(text: string): string {
  // Inline code spans stay verbatim; the text between them is cleaned.
  const out: string[] = [];
  const span = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  let last = 0;
  for (let m = span.exec(text); m !== null; m = span.exec(text)) {
    out.push(cleanProse(text.slice(last, m.index)), m[0]);
    last = m.index + m[0].length;
  }
  out.push(cleanProse(text.slice(last)));
  return out.join("");
}

function cleanProse(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1") // ![alt](url)
    .replace(/!\[([^\]]*)\]\[[^\]]*\]/g, "$1") // ![alt][ref]
    .replace(/!\[([^\]]*)\]/g, "$1") // ![ref]
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;"); // raw HTML and autolinks become text
}

export function sanitizeMarkdown(markdown: string): string {
  const lines = markdown.split(/\r?\n/);
  const out: string[] = [];
  let fence: string | null = null;
  let prose: string[] = [];
  const flush = () => {
    if (prose.length) out.push(sanitizeText(prose.join("\n")));
    prose = [];
  };
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (fence === null) {
      if (m) {
        flush();
        fence = m[2];
        out.push(line);
      } else {
        prose.push(line);
      }
    } else {
      out.push(line);
      if (m && m[2][0] === fence[0] && m[2].length >= fence.length && line.trim() === m[2]) {
        fence = null;
      }
    }
  }
  flush();
  return out.join("\n");
}
