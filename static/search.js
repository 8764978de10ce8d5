// Catalogue search: Vietnamese folding, prefix matching as you type, facets with live counts, and
// the whole state in the URL. The index is built by cnnt/site/search.py; `fold` and `words` must do
// exactly what cnnt/text.py does (tests/fold_vectors.json is run against both).
'use strict';
(function () {
  var SPACES = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/g;
  var MARKS = /\p{M}/gu;
  var WORDS = /[\p{L}\p{N}]+/gu;
  // Both set from the head file (cnnt/site/search.py's PAGE_SIZE and SHARD_PREFIX): results shown at
  // first, and the letters of a word that name its shard.
  var PAGE_SIZE = 30, SHARD_PREFIX = 3;
  // How much a query word counts for, by where it is found: names first, then facility names,
  // tags and the facility's province, descriptions. A word typed with its marks that matches them
  // exactly counts extra, and so does a whole word over the start of a longer one ("trà", tea,
  // above "Bát Tràng", a pottery village).
  var WEIGHT = { name: 8, other: 6, facility: 3, tags: 2, province: 2, text: 1, exact: 4, phrase: 5, whole: 3 };
  // in the order of the page's fieldsets; each doc's `values` follow it
  var FACETS = ['level', 'ocop', 'certification', 'province', 'group', 'kind', 'channel', 'market'];
  var TERMS = { level: 'levels', ocop: 'ocop', certification: 'certifications', province: 'provinces',
    group: 'groups', kind: 'kinds', channel: 'channels', market: 'markets' };
  // What a description word matches (`has`), and where it is a whole word (`whole`): every product
  // when the word is in most descriptions, none until the description index has arrived.
  function never() { return false; }
  var ALL = { has: function () { return true; }, whole: never }, NONE = { has: never, whole: never };

  function fold(text) {
    return text.normalize('NFD').replace(MARKS, '').replace(/[đĐ]/g, 'd').toLowerCase()
      .replace(SPACES, ' ').replace(/^ +| +$/g, '');
  }
  function words(text) { return fold(text).match(WORDS) || []; }
  function markedWords(text) { return text.normalize('NFC').toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) || []; }
  // words with a space before each and one after the last: ' w' finds a word that starts so, ' w ' a whole word
  function spaced(list) { return ' ' + list.join(' ') + ' '; }
  // A facility's province ([code, name, other names]) as cnnt/site/search.py `province_text` has it: its
  // name, its code's words ("Hanoi" and "ha noi" on the English pages), its other names ("Daklak") and
  // the province it was in before 2025.
  function provinceText(term, former) {
    return term[1] + ' ' + term[0].replace(/-/g, ' ') + (term[2] ? ' ' + term[2] : '') + (former ? ' ' + former : '');
  }
  window.CNNTSearch = { fold: fold, words: words };

  var root = document.getElementById('search');
  if (!root) return;
  var form = root.querySelector('form');
  var input = form.elements.q;
  var sortSelect = form.elements.sort;
  var status = root.querySelector('[data-status]');
  var list = root.querySelector('[data-results]');
  var more = root.querySelector('[data-more]');
  var strings = JSON.parse(root.querySelector('[data-strings]').textContent);
  // On a phone the filters are a panel opened from a button that says how many are ticked.
  var toggle = root.querySelector('[data-filters-toggle]'), panel = root.querySelector('[data-filters]');
  var activeCount = root.querySelector('[data-active]'), doneButton = root.querySelector('[data-filters-done]');
  var clearButton = root.querySelector('[data-filters-clear]');
  function openFilters(open) {
    root.classList.toggle('filters-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open) panel.focus(); else toggle.focus();
  }
  var links = root.dataset.root, assets = root.dataset.assets;
  // entry addresses come from the page (cnnt/urls.py), with `{slug}` to fill in
  var productUrl = root.dataset.productUrl, facilityUrl = root.dataset.facilityUrl;
  function entryUrl(pattern, slug) { return links + pattern.split('{slug}').join(slug); }
  // `head` comes first (terms, the empty query's answer, the shards); a shard answers the first
  // query; `data`, every product, follows the first result, and then `text`, the descriptions.
  var head, data = null, docs = [], facets, text = null, wordCache = {};
  var prefixes = null;  // once `data` is here: a word prefix (1 to 3 letters) → the docs with such a word
  var shown = PAGE_SIZE, shownHtml = null;

  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // A product row of `data` (see cnnt/site/search.py `build_index`) and its facility's row.
  function docFrom(index, row, facility) {
    var doc = {
      index: index, slug: row[0], name: row[1], other: row[2], facility: facility, level: row[4],
      group: row[5], markets: row[6], thumb: row[7], province: facility[2],
      nameWords: spaced(words(row[1])), otherWords: spaced(words(row[2])),
      facilityWords: spaced(words(facility[1])), tagWords: spaced(words(row[8])),
      provinceWords: facility.length > 4 ? formerWords(facility) : provinceWords[facility[2]],
      marked: spaced(markedWords(row[1]).concat(markedWords(row[2]))),
      // in the order of FACETS
      values: [row[4] < 0 ? [] : [row[4]], row[9] < 0 ? [] : [row[9]], row[10], [facility[2]], [row[5]],
               [facility[3]], row[11], row[6]]
    };
    // the same, as positions in one array of every facet's counts: counting is one loop
    var flat = [];
    doc.values.forEach(function (values, f) { values.forEach(function (v) { flat.push(offsets[f] + v); }); });
    doc.flat = Int32Array.from(flat);
    return doc;
  }
  function docsFrom(rows) { return rows.map(function (r) { return docFrom(r[0], r[1], r[2]); }); }
  // A shard (cnnt/site/search.py `_shard`): positions as gaps, facilities listed once.
  function docsFromShard(shard) {
    var index = 0;
    return shard.p.map(function (row, k) { index += shard.i[k]; return docFrom(index, row, shard.f[row[3]]); });
  }

  var offsets;  // where each facet's counts start in the one array of them all
  var provinceWords;  // by the province's place in the head's list: what a buyer may type for it
  // the same with the province a facility was in before 2025 (its row's 5th item), made once a facility row
  function formerWords(facility) {
    return facility.placeWords || (facility.placeWords = spaced(words(provinceText(head.provinces[facility[2]], facility[4]))));
  }
  function prepareFacets() {
    provinceWords = head.provinces.map(function (term) { return spaced(words(provinceText(term))); });
    facets = {};
    offsets = [0];
    FACETS.forEach(function (name, f) {
      facets[name] = { terms: head[TERMS[name]], selected: new Set() };
      offsets.push(offsets[f] + head[TERMS[name]].length);
    });
  }

  // Once every product is here: for each word prefix of 1 to SHARD_PREFIX letters, the docs with a
  // word so beginning, in each field (name, other name, facility, tags, province) and in any of them. A short
  // query word is then scored by looking up, not by searching strings.
  var FIELDS = ['nameWords', 'otherWords', 'facilityWords', 'tagWords', 'provinceWords'];
  var FIELD_WEIGHTS = [WEIGHT.name, WEIGHT.other, WEIGHT.facility, WEIGHT.tags, WEIGHT.province];
  var byField = null;
  function prepareAll() {
    docs = data.products.map(function (row, index) { return docFrom(index, row, data.facilities[row[3]]); });
    prefixes = {};
    byField = FIELDS.map(function () { return {}; });
    docs.forEach(function (doc) {
      var any = {};
      FIELDS.forEach(function (field, f) {
        var seen = {}, index = byField[f];
        doc[field].split(' ').forEach(function (word) {
          for (var n = 1; n <= SHARD_PREFIX && n <= word.length; n++) {
            var key = word.slice(0, n);
            if (!seen[key]) { seen[key] = true; (index[key] || (index[key] = [])).push(doc.index); }
            if (!any[key]) { any[key] = true; (prefixes[key] || (prefixes[key] = [])).push(doc.index); }
          }
        });
      });
    });
  }

  // For a word of at most SHARD_PREFIX letters: for each doc, the first field (in FIELDS, the
  // weightiest first) with a word so beginning, counted from 1 (0: none).
  function fieldsWith(word) {
    if (!byField || word.length > SHARD_PREFIX) return null;
    var found = new Uint8Array(docs.length);
    for (var f = FIELDS.length - 1; f >= 0; f--) {  // the weightiest field last, so it wins
      var list = byField[f][word] || [];
      for (var k = 0; k < list.length; k++) found[list[k]] = f + 1;
    }
    return found;
  }

  // -- descriptions: an inverted index, sorted, searched by prefix -------------------------------

  function textMatches(word) {
    if (!text || !data) return NONE;
    if (word in wordCache) return wordCache[word];
    var found = ALL;
    if (!text.common.some(function (w) { return w.indexOf(word) === 0; })) {
      // 1: a description word begins so; 3: one is the word itself (a whole word ranks higher, as in names)
      var marks = new Uint8Array(data.products.length);
      found = { has: function (index) { return marks[index] !== 0; }, whole: function (index) { return marks[index] === 3; },
                marks: marks };
      var low = 0, high = text.words.length;
      while (low < high) { var mid = (low + high) >> 1; if (text.words[mid] < word) low = mid + 1; else high = mid; }
      // By prefix from SHARD_PREFIX letters on; a shorter word, whole: "k" would gather the
      // products of every description word in k, most of the catalogue, at every first keystroke.
      var whole = word.length < SHARD_PREFIX;
      for (var i = low; i < text.words.length && (whole ? text.words[i] === word : text.words[i].indexOf(word) === 0); i++) {
        var gaps = text.ids[i], mark = text.words[i] === word ? 3 : 1;
        for (var k = 0, id = 0; k < gaps.length; k++) { id += gaps[k]; marks[id] |= mark; }
      }
    }
    wordCache[word] = found;
    return found;
  }

  // -- matching and scoring ----------------------------------------------------------------------

  function score(doc, query) {
    var total = 0;
    for (var i = 0; i < query.words.length; i++) {
      var word = query.spaced[i];
      // the first field (in FIELDS) with a word so beginning; its words, read as plain properties:
      // this runs for every match of every keystroke
      var f = -1, field = '';
      if (query.fields[i]) {
        f = query.fields[i][doc.index] - 1;
        field = f === 0 ? doc.nameWords : f === 1 ? doc.otherWords : f === 2 ? doc.facilityWords :
          f === 3 ? doc.tagWords : f === 4 ? doc.provinceWords : '';
      }
      else if (doc.nameWords.indexOf(word) >= 0) { f = 0; field = doc.nameWords; }
      else if (doc.otherWords.indexOf(word) >= 0) { f = 1; field = doc.otherWords; }
      else if (doc.facilityWords.indexOf(word) >= 0) { f = 2; field = doc.facilityWords; }
      else if (doc.tagWords.indexOf(word) >= 0) { f = 3; field = doc.tagWords; }
      else if (doc.provinceWords.indexOf(word) >= 0) { f = 4; field = doc.provinceWords; }
      var best = f >= 0 ? FIELD_WEIGHTS[f] : query.text[i].has(doc.index) ? WEIGHT.text : 0;
      if (!best) return 0;
      total += best;
      if (field ? field.indexOf(query.whole[i]) >= 0 : query.text[i].whole(doc.index)) total += WEIGHT.whole;
      if (query.marked[i] && doc.marked.indexOf(query.marked[i]) >= 0) total += WEIGHT.exact;
    }
    if (query.phrase && doc.nameWords.indexOf(query.phrase) >= 0) total += WEIGHT.phrase;
    return total;
  }

  function parseQuery(q) {
    var folded = words(q);
    var marked = markedWords(q);
    // Strings are made once here, not once per product: the loop over 10k products must not allocate.
    return {
      words: folded,
      spaced: folded.map(function (w) { return ' ' + w; }),
      whole: folded.map(function (w) { return ' ' + w + ' '; }),
      phrase: folded.length > 1 ? ' ' + folded.join(' ') : '',
      // a word typed without marks gets no exact-mark bonus: it matched by folding
      marked: marked.length === folded.length ? marked.map(function (m) { return fold(m) === m ? '' : ' ' + m; }) : [],
      text: folded.map(textMatches),
      fields: folded.map(fieldsWith)
    };
  }

  function passes(values, selected) {
    if (!selected.size) return true;
    for (var k = 0; k < values.length; k++) if (selected.has(values[k])) return true;
    return false;
  }

  // One pass over the matches: a document that passes every facet is a result and counts in every
  // facet; one that fails a single facet still counts in that facet (OR within, AND across).
  // The docs that can match at all: those with a word beginning as the query's most selective word
  // does (in a name, facility or tags), or whose description has it. Null: every doc.
  function candidates(query) {
    if (!prefixes) return null;
    var best = null;
    for (var i = 0; i < query.words.length; i++) {
      if (query.text[i] === ALL) continue;  // a word most descriptions have narrows nothing
      var list = prefixes[query.words[i].slice(0, SHARD_PREFIX)] || [];
      if (!best || list.length < best.list.length) best = { list: list, text: query.text[i] };
    }
    if (!best) return null;
    var marks = best.text.marks ? best.text.marks.slice() : new Uint8Array(docs.length);
    for (var k = 0; k < best.list.length; k++) marks[best.list[k]] = 1;
    return marks;
  }

  function run() {
    var query = parseQuery(input.value);
    var selected = FACETS.map(function (name) { return facets[name].selected; });
    var anySelected = selected.some(function (set) { return set.size > 0; });
    var counts = new Int32Array(offsets[FACETS.length]);
    // Results are grouped by what they are sorted by; docs come in alphabetical order, so each group
    // is in order already and no keystroke pays for a sort (see `ordered`).
    var by = sortSelect.value, groups = new Map(), total = 0;
    var possible = query.words.length ? candidates(query) : null;
    for (var i = 0; i < docs.length; i++) {
      var doc = docs[i];
      if (possible && !possible[doc.index]) continue;
      var s = query.words.length ? score(doc, query) : 1;
      if (!s) continue;
      var failed = -1, failures = 0;
      if (anySelected) {
        for (var f = 0; f < FACETS.length; f++) {
          if (!passes(doc.values[f], selected[f])) { failed = f; if (++failures > 1) break; }
        }
        if (failures > 1) continue;
      }
      if (failures) {  // counts only in the one facet it fails: ticking there would bring it in
        var values = doc.values[failed];
        for (var k = 0; k < values.length; k++) counts[offsets[failed] + values[k]]++;
        continue;
      }
      var flat = doc.flat;
      for (k = 0; k < flat.length; k++) counts[flat[k]]++;
      doc.score = s;
      // By relevance, a product with an award in force comes before those as relevant with a lower
      // award or none: the levels are listed highest first, so the level's place counts from the end.
      var key = by === 'name' ? 0 : by === 'level' ? (doc.level < 0 ? -1 : head.levels[doc.level][2]) :
        query.words.length ? s * (head.levels.length + 1) + (doc.level < 0 ? 0 : head.levels.length - doc.level) : s;
      var group = groups.get(key);
      if (group) group.push(doc); else groups.set(key, [doc]);
      total++;
    }
    render(ordered(groups, shown), FACETS.map(function (name, f) {
      return counts.subarray(offsets[f], offsets[f + 1]);
    }), total);
  }

  // The first `count` results: the groups from the highest key down, each in alphabetical order.
  function ordered(groups, count) {
    var top = [];
    Array.from(groups.keys()).sort(function (a, b) { return b - a; }).forEach(function (key) {
      var group = groups.get(key);
      for (var k = 0; k < group.length && top.length < count; k++) top.push(group[k]);
    });
    return top;
  }

  // -- the page ----------------------------------------------------------------------------------

  function resultHtml(doc) {
    var facility = doc.facility;
    var thumb = doc.thumb
      ? '<img src="' + escapeHtml(assets + doc.thumb) + '" alt="" width="72" height="72" loading="lazy">'
      : '<img src="' + escapeHtml(assets) + 'static/placeholder.svg" alt="" width="72" height="72">';
    var level = doc.level < 0 ? '<span class="badge badge-none">' + escapeHtml(strings.no_award) + '</span>'
      : '<span class="badge badge-' + escapeHtml(head.levels[doc.level][0]) + '">' + escapeHtml(head.levels[doc.level][1]) + '</span>';
    return '<li class="result">' + thumb + '<div><a class="result-title" href="' + escapeHtml(entryUrl(productUrl, doc.slug)) + '">'
      + escapeHtml(doc.name) + '</a>' + (doc.other ? ' <span class="result-other" lang="vi">' + escapeHtml(doc.other) + '</span>' : '')
      + '<p class="result-meta"><a href="' + escapeHtml(entryUrl(facilityUrl, facility[0])) + '">' + escapeHtml(facility[1])
      + '</a> · ' + escapeHtml(head.provinces[facility[2]][1])
      + (facility.length > 4 ? ' (' + escapeHtml(strings.formerly.split('{name}').join(facility[4])) + ')' : '')
      + '</p>' + level + '</div></li>';
  }

  // Within a facet, values with results come first, in their usual order; values without results
  // fold away unless ticked; a facet with nothing to offer is hidden whole.
  // `results`: the first of them, in order (at least as many as are shown); `total`: how many there are.
  function render(results, counts, total) {
    root.classList.add('search-ready');  // the page is laid out for results from the first of them
    var html = results.slice(0, shown).map(resultHtml).join('');
    // The same results are left in place (the whole index arriving after the first answer, a key
    // that changes nothing): a result being tapped is never swapped for its twin.
    if (html !== shownHtml) { list.innerHTML = html; shownHtml = html; }
    more.hidden = total <= shown || !data;
    status.textContent = total ? strings.found.replace('{count}', total) : strings.none;
    var active = 0;
    FACETS.forEach(function (name, f) {
      var facet = facets[name], order = [], empty = [], visible = 0;
      facet.boxes.forEach(function (box, value) {
        var count = counts[f][value], checked = box.input.checked;
        if (box.shown !== count) { box.count.textContent = count; box.shown = count; }
        box.label.hidden = count === 0 && !checked;
        box.label.classList.toggle('facet-empty', count === 0);
        if (checked) active++;
        if (count || checked) { order.push(value); visible++; } else empty.push(value);
      });
      order = order.concat(empty);
      // moved only when the order changes: moving labels makes the browser lay the panel out again
      if (!facet.order || facet.order.join() !== order.join()) {
        order.forEach(function (value) { facet.container.append(facet.boxes[value].label); });
        facet.order = order;
      }
      facet.fieldset.hidden = visible === 0;
    });
    activeCount.textContent = active ? strings.active.replace('{count}', active) : '';
    activeCount.hidden = !active;
    clearButton.style.visibility = active ? 'visible' : 'hidden';  // kept in place: nothing moves
    doneButton.textContent = strings.done + (total ? ' (' + total + ')' : '');
  }

  function buildFacets() {
    FACETS.forEach(function (name) {
      var container = root.querySelector('[data-facet="' + name + '"]');
      facets[name].container = container;
      facets[name].fieldset = container.closest('fieldset');
      facets[name].boxes = facets[name].terms.map(function (term, value) {
        var label = document.createElement('label');
        var box = document.createElement('input');
        box.type = 'checkbox'; box.name = name; box.value = term[0];
        var count = document.createElement('span');
        count.className = 'facet-count';
        label.append(box, ' ' + term[1] + ' ', count);
        container.append(label);
        box.addEventListener('change', function () {
          if (box.checked) facets[name].selected.add(value); else facets[name].selected.delete(value);
          update(true);
        });
        return { input: box, count: count, label: label };
      });
    });
  }

  // -- state in the URL --------------------------------------------------------------------------

  function readState() {
    var params = new URLSearchParams(location.search);
    input.value = params.get('q') || '';
    sortSelect.value = ['name', 'level'].indexOf(params.get('sort')) >= 0 ? params.get('sort') : 'relevance';
    FACETS.forEach(function (name) {
      var wanted = new Set();
      params.getAll(name).forEach(function (v) { v.split(',').forEach(function (code) { wanted.add(code); }); });
      facets[name].selected = new Set();
      facets[name].boxes.forEach(function (box, value) {
        box.input.checked = wanted.has(facets[name].terms[value][0]);
        if (box.input.checked) facets[name].selected.add(value);
      });
    });
  }

  function writeState(push) {
    var params = new URLSearchParams();
    if (input.value) params.set('q', input.value);
    FACETS.forEach(function (name) {
      facets[name].selected.forEach(function (value) { params.append(name, facets[name].terms[value][0]); });
    });
    if (sortSelect.value !== 'relevance') params.set('sort', sortSelect.value);
    var url = location.pathname + (params.toString() ? '?' + params : '');
    if (url !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState'](null, '', url);
  }

  // While typing, the address is rewritten once the typing pauses: rewriting it on every key costs
  // more than the search itself on a slow phone. Ticks, sort and "enter" rewrite it at once.
  var stateTimer = 0;
  function update(push) {
    shown = PAGE_SIZE;
    clearTimeout(stateTimer);
    if (push) writeState(true);
    else stateTimer = setTimeout(writeState, 300, false);
    refresh();
  }

  function refresh() {
    if (data) run();
    else if (!runEarly()) {  // until every product is here: nothing stale on screen
      list.innerHTML = shownHtml = '';
      more.hidden = true;
      status.textContent = strings.loading;
      doneButton.textContent = strings.done;
    }
  }

  function ticked() {
    return FACETS.some(function (name) { return facets[name].selected.size > 0; });
  }

  // Before every product is here: the empty query is answered from `head`, a query with a word of
  // three letters from that word's shard; anything else waits for `data`. A promise of the answer
  // on screen, or null.
  function runEarly() {
    var query = parseQuery(input.value);
    if (!query.words.length && !ticked()) {
      render(docsFrom(head.first), head.counts.map(function (c) { return Int32Array.from(c); }), head.total);
      return Promise.resolve();
    }
    // head.shards: prefix → [file, products], the file null for a prefix too common to have one
    var best = null;
    query.words.forEach(function (word) {
      if (word.length < SHARD_PREFIX) return;
      var shard = head.shards[word.slice(0, SHARD_PREFIX)] || ['', 0];  // '': no product has such a word
      if (shard[0] !== null && (!best || shard[1] < best[1])) best = shard;
    });
    if (!best || ticked()) return null;
    wanted = best[0];
    if (!wanted) { docs = []; run(); return Promise.resolve(); }
    return fetchJson(searchDir + wanted).then(function (rows) {
      if (data || wanted !== best[0]) return;  // every product arrived first, or the query moved on
      docs = docsFromShard(rows);
      run();
    }).catch(function () { /* the whole data answers instead */ });
  }

  function fetchJson(url) {
    return fetch(url).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  function listen() {
    input.addEventListener('input', function () { update(false); });
    sortSelect.addEventListener('change', function () { update(true); });
    form.addEventListener('submit', function (event) { event.preventDefault(); update(true); });
    more.addEventListener('click', function () { shown += PAGE_SIZE; refresh(); });
    toggle.addEventListener('click', function () { openFilters(!root.classList.contains('filters-open')); });
    doneButton.addEventListener('click', function () { openFilters(false); });
    panel.addEventListener('keydown', function (event) { if (event.key === 'Escape') openFilters(false); });
    clearButton.addEventListener('click', function () {
      FACETS.forEach(function (name) {
        facets[name].selected.clear();
        facets[name].boxes.forEach(function (box) { box.input.checked = false; });
      });
      update(true);
    });
    window.addEventListener('popstate', function () { readState(); refresh(); });
  }

  var wanted = null;  // the shard the query being answered early needs
  var searchDir = root.dataset.head.slice(0, root.dataset.head.lastIndexOf('/') + 1);
  function start(loadedHead) {
    head = loadedHead;
    PAGE_SIZE = shown = head.page_size;
    SHARD_PREFIX = head.shard_prefix;
    prepareFacets();
    buildFacets();
    // On weak mobile data the head comes seconds after the page: words typed meanwhile win over the
    // address's (else the box was emptied under the buyer's fingers), and go into the address.
    var typed = input.value;
    readState();
    if (typed && typed !== input.value) {
      input.value = typed;
      stateTimer = setTimeout(writeState, 300, false);
    }
    var early = runEarly();
    listen();
    // Every product is fetched once the first answer is on screen, not beside it: on a weak
    // connection the two would share the little there is.
    (early || Promise.resolve()).then(function () { return fetchJson(root.dataset.index); }).then(function (loaded) {
      data = loaded; wordCache = {};
      prepareAll();
      run();
      // Descriptions come last: the first results never wait for them.
      return fetchJson(root.dataset.text).then(function (loadedText) { text = loadedText; wordCache = {}; run(); })
        .catch(function () { /* offline and not cached: names, facilities and tags still work */ })
        .then(function () { root.classList.add('search-complete'); });  // every file that will come is here
    }).catch(function () {
      if (!root.classList.contains('search-ready')) {  // nothing answered early either
        status.textContent = strings.failed;
        root.classList.add('search-ready');
      }
    });
  }

  fetchJson(root.dataset.head).then(start).catch(function () {
    status.textContent = strings.failed;
    root.classList.add('search-ready');
  });

  if ('serviceWorker' in navigator && root.dataset.worker) {
    navigator.serviceWorker.register(root.dataset.worker).catch(function () { /* search still works online */ });
  }
})();
