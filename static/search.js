// Catalogue search: Vietnamese folding, prefix matching as you type, facets with live counts, and
// the whole state in the URL. The index is built by cnnt/search.py; `fold` and `words` must do
// exactly what cnnt/text.py does (tests/fold_vectors.json is run against both).
'use strict';
(function () {
  var SPACES = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/g;
  var MARKS = /\p{M}/gu;
  var WORDS = /[\p{L}\p{N}]+/gu;
  var PAGE_SIZE = 30;
  // How much a query word counts for, by where it is found: names first, then facility names,
  // tags, descriptions. A word typed with its marks that matches them exactly counts extra.
  var WEIGHT = { name: 8, other: 6, facility: 3, tags: 2, text: 1, exact: 4, phrase: 5 };
  // in the order of the page's fieldsets; each doc's `values` follow it
  var FACETS = ['level', 'ocop', 'certification', 'province', 'group', 'kind', 'channel', 'market'];
  var TERMS = { level: 'levels', ocop: 'ocop', certification: 'certifications', province: 'provinces',
    group: 'groups', kind: 'kinds', channel: 'channels', market: 'markets' };
  // What a description word matches: every product when the word is in most descriptions, none
  // until the description index has arrived.
  var ALL = { has: function () { return true; } }, NONE = { has: function () { return false; } };

  function fold(text) {
    return text.normalize('NFD').replace(MARKS, '').replace(/[đĐ]/g, 'd').toLowerCase()
      .replace(SPACES, ' ').replace(/^ +| +$/g, '');
  }
  function words(text) { return fold(text).match(WORDS) || []; }
  function markedWords(text) { return text.normalize('NFC').toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) || []; }
  function spaced(list) { return ' ' + list.join(' '); }
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
  var data, docs, facets, text = null, wordCache = {};
  var shown = PAGE_SIZE;

  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function prepare() {
    docs = data.products.map(function (row, index) {
      var facility = data.facilities[row[3]];
      return {
        index: index, slug: row[0], name: row[1], other: row[2], facility: facility, level: row[4],
        group: row[5], markets: row[6], thumb: row[7], province: facility[2],
        nameWords: spaced(words(row[1])), otherWords: spaced(words(row[2])),
        facilityWords: spaced(words(facility[1])), tagWords: spaced(words(row[8])),
        marked: spaced(markedWords(row[1]).concat(markedWords(row[2]))),
        // in the order of FACETS
        values: [row[4] < 0 ? [] : [row[4]], row[9] < 0 ? [] : [row[9]], row[10], [facility[2]], [row[5]],
                 [facility[3]], row[11], row[6]]
      };
    });
    facets = {};
    FACETS.forEach(function (name) { facets[name] = { terms: data[TERMS[name]], selected: new Set() }; });
  }

  // -- descriptions: an inverted index, sorted, searched by prefix -------------------------------

  function textMatches(word) {
    if (!text) return NONE;
    if (word in wordCache) return wordCache[word];
    var found = ALL;
    if (!text.common.some(function (w) { return w.indexOf(word) === 0; })) {
      var marks = new Uint8Array(docs.length);
      found = { has: function (index) { return marks[index] === 1; } };
      var low = 0, high = text.words.length;
      while (low < high) { var mid = (low + high) >> 1; if (text.words[mid] < word) low = mid + 1; else high = mid; }
      for (var i = low; i < text.words.length && text.words[i].indexOf(word) === 0; i++) {
        var gaps = text.ids[i];
        for (var k = 0, id = 0; k < gaps.length; k++) { id += gaps[k]; marks[id] = 1; }
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
      var best = 0;
      if (doc.nameWords.indexOf(word) >= 0) best = WEIGHT.name;
      else if (doc.otherWords.indexOf(word) >= 0) best = WEIGHT.other;
      else if (doc.facilityWords.indexOf(word) >= 0) best = WEIGHT.facility;
      else if (doc.tagWords.indexOf(word) >= 0) best = WEIGHT.tags;
      else if (query.text[i].has(doc.index)) best = WEIGHT.text;
      if (!best) return 0;
      total += best;
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
      phrase: folded.length > 1 ? ' ' + folded.join(' ') : '',
      // a word typed without marks gets no exact-mark bonus: it matched by folding
      marked: marked.length === folded.length ? marked.map(function (m) { return fold(m) === m ? '' : ' ' + m; }) : [],
      text: folded.map(textMatches)
    };
  }

  function passes(values, selected) {
    if (!selected.size) return true;
    for (var k = 0; k < values.length; k++) if (selected.has(values[k])) return true;
    return false;
  }

  // One pass over the matches: a document that passes every facet is a result and counts in every
  // facet; one that fails a single facet still counts in that facet (OR within, AND across).
  function run() {
    var query = parseQuery(input.value);
    var selected = FACETS.map(function (name) { return facets[name].selected; });
    var counts = FACETS.map(function (name) { return new Int32Array(facets[name].terms.length); });
    var results = [];
    for (var i = 0; i < docs.length; i++) {
      var doc = docs[i];
      var s = query.words.length ? score(doc, query) : 1;
      if (!s) continue;
      var failed = -1, failures = 0;
      for (var f = 0; f < FACETS.length; f++) {
        if (!passes(doc.values[f], selected[f])) { failed = f; if (++failures > 1) break; }
      }
      if (failures > 1) continue;
      for (f = 0; f < FACETS.length; f++) {
        if (failures && failed !== f) continue;
        var values = doc.values[f];
        for (var k = 0; k < values.length; k++) counts[f][values[k]]++;
      }
      if (!failures) { doc.score = s; results.push(doc); }
    }
    sortResults(results);
    render(results, counts);
  }

  function sortResults(results) {
    var by = sortSelect.value;
    results.sort(function (a, b) {
      if (by === 'level') {
        var ra = a.level < 0 ? -1 : data.levels[a.level][2], rb = b.level < 0 ? -1 : data.levels[b.level][2];
        if (ra !== rb) return rb - ra;
      } else if (by !== 'name' && a.score !== b.score) {
        return b.score - a.score;
      }
      return a.index - b.index; // the index is in alphabetical order
    });
  }

  // -- the page ----------------------------------------------------------------------------------

  function resultHtml(doc) {
    var facility = doc.facility;
    var thumb = doc.thumb
      ? '<img src="' + escapeHtml(assets + doc.thumb) + '" alt="" width="72" height="72" loading="lazy">'
      : '<img src="' + escapeHtml(assets) + 'static/placeholder.svg" alt="" width="72" height="72">';
    var level = doc.level < 0 ? '<span class="badge badge-none">' + escapeHtml(strings.no_award) + '</span>'
      : '<span class="badge badge-' + escapeHtml(data.levels[doc.level][0]) + '">' + escapeHtml(data.levels[doc.level][1]) + '</span>';
    return '<li class="result">' + thumb + '<div><a class="result-title" href="' + escapeHtml(entryUrl(productUrl, doc.slug)) + '">'
      + escapeHtml(doc.name) + '</a>' + (doc.other ? ' <span class="result-other" lang="vi">' + escapeHtml(doc.other) + '</span>' : '')
      + '<p class="result-meta"><a href="' + escapeHtml(entryUrl(facilityUrl, facility[0])) + '">' + escapeHtml(facility[1])
      + '</a> · ' + escapeHtml(data.provinces[facility[2]][1]) + '</p>' + level + '</div></li>';
  }

  // Within a facet, values with results come first, in their usual order; values without results
  // fold away unless ticked; a facet with nothing to offer is hidden whole.
  function render(results, counts) {
    list.innerHTML = results.slice(0, shown).map(resultHtml).join('');
    more.hidden = results.length <= shown;
    status.textContent = results.length ? strings.found.replace('{count}', results.length) : strings.none;
    var active = 0;
    FACETS.forEach(function (name, f) {
      var facet = facets[name], empty = [], visible = 0;
      facet.boxes.forEach(function (box, value) {
        var count = counts[f][value], checked = box.input.checked;
        box.count.textContent = count;
        box.label.hidden = count === 0 && !checked;
        box.label.classList.toggle('facet-empty', count === 0);
        if (checked) active++;
        if (count || checked) { facet.container.append(box.label); visible++; } else empty.push(box.label);
      });
      empty.forEach(function (label) { facet.container.append(label); });
      facet.fieldset.hidden = visible === 0;
    });
    activeCount.textContent = active ? strings.active.replace('{count}', active) : '';
    activeCount.hidden = !active;
    clearButton.style.visibility = active ? 'visible' : 'hidden';  // kept in place: nothing moves
    doneButton.textContent = strings.done + (results.length ? ' (' + results.length + ')' : '');
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
    run();
  }

  function start(loaded) {
    data = loaded;
    prepare();
    buildFacets();
    readState();
    run();
    root.classList.add('search-ready');
    input.addEventListener('input', function () { update(false); });
    sortSelect.addEventListener('change', function () { update(true); });
    form.addEventListener('submit', function (event) { event.preventDefault(); update(true); });
    more.addEventListener('click', function () { shown += PAGE_SIZE; run(); });
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
    window.addEventListener('popstate', function () { readState(); run(); });
    // Descriptions come second: the first results never wait for them.
    fetch(root.dataset.text).then(function (r) { return r.json(); }).then(function (loadedText) {
      text = loadedText; wordCache = {}; run();
    }).catch(function () { /* offline and not cached: names, facilities and tags still work */ });
  }

  fetch(root.dataset.index).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(start).catch(function () {
    status.textContent = strings.failed;
  });

  if ('serviceWorker' in navigator && root.dataset.worker) {
    navigator.serviceWorker.register(root.dataset.worker).catch(function () { /* search still works online */ });
  }
})();
