/**
 * GET /docs: a self-contained page (no CDN, no external script: devices and tests have no internet) that reads
 * /openapi.json and renders every operation with its parameters and schemas, plus a try-it form that sends the
 * request from the browser and shows the status and body.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lepton API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
h2{margin:28px 0 8px;font-size:17px}
details.op{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:6px 0}
details.op>summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center}
.m{font:600 12px monospace;padding:2px 8px;border-radius:4px;color:#fff;min-width:44px;text-align:center}
.get{background:#2f7d32}.post{background:#1e5fb4}.path{font-family:monospace}.sum{color:#596175}
.body{padding:4px 14px 14px}pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;max-height:320px}
label{display:block;margin:6px 0 2px;font-weight:600}input,textarea{width:100%;box-sizing:border-box;font:13px monospace;padding:4px}
textarea{min-height:120px}button{margin-top:8px;padding:6px 14px;cursor:pointer}
</style></head>
<body><header><h1>Lepton API</h1><div id="info">loading /openapi.json ...</div></header>
<main id="root"></main>
<script>
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? (e.className = v) : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
let spec;
const resolve = (s) => (s && s.$ref ? spec.components.schemas[s.$ref.split('/').pop()] : s);
// A small example value from a schema, so the try-it body starts from something that validates.
function example(s, depth = 0) {
  s = resolve(s) || {};
  if (depth > 6) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  if (s.anyOf || s.oneOf) return example((s.anyOf || s.oneOf)[0], depth + 1);
  switch (s.type) {
    case 'object': {
      const o = {};
      for (const k of s.required || []) o[k] = example(s.properties[k], depth + 1);
      return o;
    }
    case 'array': return [];
    case 'string': return '';
    case 'integer': case 'number': return 0;
    case 'boolean': return false;
    default: return null;
  }
}
function operation(path, method, op) {
  const body = el('div', { class: 'body' });
  if (op.description) body.append(el('p', {}, op.description));
  const params = op.parameters || [];
  const fields = {};
  for (const p of params) {
    fields[p.name] = el('input', { placeholder: p.in + (p.required ? ' (required)' : ''), value: p.example ?? '' });
    body.append(el('label', {}, p.name + ' (' + p.in + ')'), fields[p.name]);
    const schema = p.schema || (p.content && p.content['application/json'].schema);
    if (p.content) fields[p.name].value = JSON.stringify(example(schema));
  }
  let text;
  const rb = op.requestBody && op.requestBody.content['application/json'];
  if (rb) {
    body.append(el('label', {}, 'request body (application/json)'), el('pre', {}, JSON.stringify(resolve(rb.schema), null, 2)));
    text = el('textarea', {}, JSON.stringify(example(rb.schema), null, 2));
    body.append(el('label', {}, 'try it: body'), text);
  }
  const ok = op.responses && op.responses['200'] && op.responses['200'].content && op.responses['200'].content['application/json'];
  if (ok) body.append(el('label', {}, 'response 200'), el('pre', {}, JSON.stringify(ok.schema, null, 2)));
  const out = el('pre', {}, '');
  const send = el('button', {}, 'Send');
  send.onclick = async () => {
    let url = path;
    const q = new URLSearchParams();
    const headers = {};
    for (const p of params) {
      const v = fields[p.name].value;
      if (v === '') continue;
      if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(v));
      else if (p.in === 'query') q.set(p.name, v);
      else if (p.in === 'header') headers[p.name] = v;
    }
    if ([...q].length) url += '?' + q;
    const init = { method: method.toUpperCase(), headers };
    if (text) { init.body = text.value; headers['content-type'] = 'application/json'; }
    out.textContent = '...';
    try {
      const res = await fetch(url, init);
      const t = await res.text();
      let shown = t;
      try { shown = JSON.stringify(JSON.parse(t), null, 2); } catch {}
      out.textContent = res.status + ' ' + res.statusText + '\\n' + shown;
    } catch (e) { out.textContent = String(e); }
  };
  body.append(send, out);
  return el('details', { class: 'op' }, el('summary', {}, el('span', { class: 'm ' + method }, method.toUpperCase()), el('span', { class: 'path' }, path), el('span', { class: 'sum' }, op.summary || '')), body);
}
fetch('/openapi.json').then((r) => r.json()).then((s) => {
  spec = s;
  document.getElementById('info').textContent = s.info.title + ' ' + s.info.version + ' (OpenAPI ' + s.openapi + ')';
  const root = document.getElementById('root');
  for (const tag of s.tags) {
    root.append(el('h2', {}, tag.name));
    for (const [path, item] of Object.entries(s.paths))
      for (const [method, op] of Object.entries(item)) if ((op.tags || []).includes(tag.name)) root.append(operation(path, method, op));
  }
  root.append(el('h2', {}, 'Schemas'));
  for (const [name, schema] of Object.entries(s.components.schemas))
    root.append(el('details', { class: 'op' }, el('summary', {}, el('span', { class: 'path' }, name)), el('div', { class: 'body' }, el('pre', {}, JSON.stringify(schema, null, 2)))));
});
</script></body></html>
`;
