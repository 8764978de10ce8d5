// The form editor at /admin/: Sveltia CMS, configured by the build (config.json) and writing entry
// files as a person would (rules.json, both made from the content contract by cnnt/site/editor.py).
//
// Each kind has its own file format, `cnnt-<folder>-frontmatter`, so that reading and writing know the kind:
// - a file that exists keeps what was written as it was (comments, `[a, b]` lists, quotes, the
//   spelling of a vocabulary value): only the fields changed in the form change, so editing one
//   field changes one line;
// - a new file is written in the order and style of `python build.py new`, without empty fields.
import { isMap, isScalar, isSeq, parseDocument, Document, Pair, Scalar } from 'yaml';

window.CMS_MANUAL_INIT = true;
const SOURCE = '_source'; // the file as read, carried through the form to the writer (never written)
const FRONT = /^---[ \t]*\r?\n([\s\S]*?\r?\n)?---[ \t]*(?:\r?\n|$)/;

function split(text) {
  const match = FRONT.exec(text);
  if (!match) return { front: '', body: text, separator: '' };
  const rest = text.slice(match[0].length);
  const body = rest.replace(/^\s*\n/, '');
  return { front: match[1] || '', body, separator: rest.slice(0, rest.length - body.length) };
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const isEmpty = (value) => value === undefined || value === null || value === ''
  || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);

function equal(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => equal(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => equal(a[key], b[key]));
  }
  return false;
}

const child = (path, key) => (path ? `${path}.${key}` : key);

// What the form shows: vocabulary values as their usual spelling, each photo as {src, alt}.
function normalise(value, path, rules) {
  if (Array.isArray(value)) {
    const items = value.map((item) => normalise(item, path, rules));
    return path === 'images' ? items.map((item) => (typeof item === 'string' ? { src: item } : item)) : items;
  }
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalise(item, child(path, key), rules)]));
  }
  const spellings = rules.spellings[path];
  if (typeof value === 'string' && spellings) {
    return spellings[value] ?? spellings[value.trim()] ?? value;
  }
  return value;
}

// What the file holds: no empty field, a photo without description as its file name, `grade: 4`
// rather than `grade: '4'`, fields in the contract's order.
function clean(value, path, rules) {
  if (Array.isArray(value)) {
    const items = value.map((item) => clean(item, path, rules)).filter((item) => !isEmpty(item));
    return path === 'images' ? items.map((item) => (isObject(item) && Object.keys(item).length === 1 && item.src
      ? item.src : item)) : items;
  }
  if (isObject(value)) {
    const order = rules.order[path] || [];
    const keys = [...order.filter((key) => key in value), ...Object.keys(value).filter((key) => !order.includes(key))];
    const result = {};
    for (const key of keys) {
      if (key === SOURCE) continue;
      const item = clean(value[key], child(path, key), rules);
      if (!isEmpty(item)) result[key] = item;
    }
    return result;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    return rules.numeric.includes(path) && /^\d{1,9}$/.test(text) ? Number(text) : text;
  }
  return value;
}

// A new node, in the style of `python build.py new`: lists of words on one line, each award or
// certification on one line of its own, other groups of fields one per line.
function create(doc, value, path, rules, inList = false) {
  const node = doc.createNode(value);
  style(node, path, rules, inList);
  return node;
}

function style(node, path, rules, inList) {
  if (isSeq(node)) {
    node.flow = rules.flow.includes(path) && node.items.every((item) => isScalar(item));
    node.items.forEach((item) => style(item, path, rules, true));
  } else if (isMap(node)) {
    node.flow = inList;
    node.items.forEach((pair) => style(pair.value, child(path, String(pair.key)), rules, inList));
  }
}

// Bring `node` (as written) to `value` (from the form), touching only what differs from `before`
// (the file's values as the form showed them).
function update(doc, node, value, before, path, rules, inList = false) {
  if (equal(value, before)) return node;
  if (isMap(node) && isObject(value) && isObject(before)) {
    for (const pair of [...node.items]) {
      const key = String(pair.key?.value ?? pair.key);
      if (!(key in value)) node.delete(pair.key);
    }
    const order = rules.order[path] || [];
    let previous = -1;
    for (const key of Object.keys(value)) {
      const index = node.items.findIndex((pair) => String(pair.key?.value ?? pair.key) === key);
      if (index >= 0) {
        node.items[index].value = update(doc, node.items[index].value, value[key], before[key], child(path, key), rules, node.flow);
        previous = index;
        continue;
      }
      // a new field goes after the last field that comes before it in the contract's order
      const rank = order.indexOf(key);
      const after = node.items.reduce((last, pair, i) => {
        const other = order.indexOf(String(pair.key?.value ?? pair.key));
        return other >= 0 && rank >= 0 && other < rank ? i : last;
      }, rank >= 0 ? -1 : node.items.length - 1);
      const at = Math.max(after, rank >= 0 ? -1 : previous) + 1;
      node.items.splice(at, 0, new Pair(doc.createNode(key), create(doc, value[key], child(path, key), rules, node.flow)));
      previous = at;
    }
    return node;
  }
  if (isSeq(node) && Array.isArray(value) && Array.isArray(before) && value.length === before.length) {
    node.items = node.items.map((item, i) => update(doc, item, value[i], before[i], path, rules, true));
    return node;
  }
  if (isScalar(node) && !isObject(value) && !Array.isArray(value)) {
    node.value = value;
    if (node.type !== Scalar.PLAIN && typeof value !== 'string') node.type = Scalar.PLAIN;
    return node;
  }
  const fresh = create(doc, value, path, rules, inList);
  if ((isSeq(node) || isMap(node)) && (isSeq(fresh) || isMap(fresh)) && isSeq(node) === isSeq(fresh)) {
    fresh.flow = node.flow; // a list written [a, b] stays on one line
  }
  return fresh;
}

// The YAML library writes a document its own way (one space before a comment, say): lines that differ
// from the file only in spacing are taken from the file, so that a diff shows just what changed.
function keepWritten(before, after) {
  const old = before.split('\n');
  const now = after.split('\n');
  const key = (line) => line.replace(/\s+/g, ' ').trim();
  const common = Array.from({ length: old.length + 1 }, () => new Array(now.length + 1).fill(0));
  for (let i = old.length - 1; i >= 0; i -= 1) {
    for (let j = now.length - 1; j >= 0; j -= 1) {
      common[i][j] = key(old[i]) === key(now[j]) ? common[i + 1][j + 1] + 1
        : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (j < now.length) {
    if (i < old.length && key(old[i]) === key(now[j])) {
      lines.push(old[i]);
      i += 1;
      j += 1;
    } else if (i < old.length && common[i + 1][j] >= common[i][j + 1]) {
      i += 1; // a line the change removed
    } else {
      lines.push(now[j]); // a line the change wrote
      j += 1;
    }
  }
  return lines.join('\n');
}

const STRINGIFY = { lineWidth: 0, indentSeq: true, flowCollectionPadding: false, singleQuote: false };

function toText(rules) {
  return (content) => {
    const { body = '', [SOURCE]: source, ...fields } = content;
    const value = clean(fields, '', rules);
    const text = (body || '').trim();
    if (typeof source !== 'string') {
      const doc = new Document();
      doc.contents = create(doc, value, '', rules);
      return `---\n${doc.toString(STRINGIFY)}---\n${text ? `${text}\n` : ''}`; // as `new` writes it
    }
    const was = split(source);
    const doc = parseDocument(was.front);
    const before = normalise(doc.toJS() || {}, '', rules);
    if (!isMap(doc.contents)) doc.contents = doc.createNode({});
    doc.contents = update(doc, doc.contents, value, clean(before, '', rules), '', rules);
    const front = equal(value, clean(before, '', rules)) ? was.front : keepWritten(was.front, doc.toString(STRINGIFY));
    const sameBody = text === was.body.trim();
    const tail = sameBody ? `${was.separator}${was.body}` : (text ? `${was.separator}${text}\n` : '');
    return `---\n${front}---\n${tail}`;
  };
}

function fromText(rules) {
  return (text) => {
    const { front, body } = split(text);
    const doc = parseDocument(front);
    if (doc.errors.length) {
      // never edit a file the editor cannot read whole: the editor lists it as unreadable instead
      throw new Error(`YAML: ${doc.errors[0].message}`);
    }
    const data = front.trim() ? doc.toJS() : {};
    return { ...normalise(isObject(data) ? data : {}, '', rules), body: body.trim(), [SOURCE]: text };
  };
}

// Vietnamese unless this person chose another language in the editor's settings.
function preferVietnamese() {
  try {
    const key = 'sveltia-cms.prefs';
    const prefs = JSON.parse(localStorage.getItem(key) || '{}') || {};
    if (!prefs.locale) localStorage.setItem(key, JSON.stringify({ ...prefs, locale: 'vi' }));
  } catch {
    // storage blocked: the browser's language decides
  }
}

async function start() {
  preferVietnamese();
  const [config, rules] = await Promise.all(['config.json', 'rules.json']
    .map((file) => fetch(file, { cache: 'no-cache' }).then((response) => response.json())));
  const { default: CMS } = await import('./sveltia/npm/index.js');
  for (const [folder, kindRules] of Object.entries(rules)) {
    CMS.registerCustomFormat(`cnnt-${folder}-frontmatter`, 'md', { fromFile: fromText(kindRules), toFile: toText(kindRules) });
  }
  CMS.init({ config });
}

window.cnntEditor = { fromText, toText }; // for the tests, which check files the way the editor writes them
start();
