// Asking for quotes: the Zalo button copies the message first; the inquiry list keeps product slugs
// on this device (localStorage: no server, no account), can be shared as a link, and sends one
// message per facility. Its names and contacts come from shortlist/data-<lang>.json (cnnt/inquiry.py).
'use strict';
(function () {
  var KEY = 'cnnt-shortlist';

  function load() {
    try { var list = JSON.parse(localStorage.getItem(KEY)); return Array.isArray(list) ? list : []; } catch (e) { return []; }
  }
  function save(list) { try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode */ } }
  function copy(text) {
    return navigator.clipboard ? navigator.clipboard.writeText(text).catch(function () {}) : Promise.resolve();
  }
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function dial(number) { return number.replace(/[^\d+]/g, ''); }

  // Zalo cannot be handed a text: the message goes to the clipboard, then Zalo opens.
  document.querySelectorAll('[data-copy]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      event.preventDefault();
      copy(document.querySelector(link.dataset.copy).value).then(function () { location.href = link.href; });
    });
  });

  // -- a product's page: on or off the list -------------------------------------------------------
  var add = document.querySelector('[data-shortlist-add]');
  if (add) {
    var slug = add.dataset.shortlistAdd, view = document.querySelector('[data-shortlist-link]');
    var show = function () {
      var list = load(), listed = list.indexOf(slug) >= 0;
      add.textContent = listed ? add.dataset.added : add.dataset.add;
      add.setAttribute('aria-pressed', String(listed));
      view.hidden = !list.length;
      view.textContent = view.dataset.label.replace('{count}', list.length);
    };
    add.hidden = false;
    show();
    add.addEventListener('click', function () {
      var list = load(), at = list.indexOf(slug);
      if (at >= 0) list.splice(at, 1); else list.push(slug);
      save(list);
      show();
    });
  }

  // -- the list ----------------------------------------------------------------------------------
  var root = document.getElementById('shortlist');
  if (!root) return;
  var strings = JSON.parse(root.querySelector('[data-strings]').textContent);
  var status = root.querySelector('[data-shortlist-status]');
  var groups = root.querySelector('[data-shortlist-groups]');
  var share = root.querySelector('[data-shortlist-share]'), keep = root.querySelector('[data-shortlist-keep]');
  var data = null;

  // a list shared as a link: `shortlist/#slug,slug`
  function sharedSlugs() {
    return location.hash.length > 1 ? decodeURIComponent(location.hash.slice(1)).split(',').filter(Boolean) : null;
  }

  function message(facility, items) {
    var lines = items.map(function (item) {
      return '- ' + item[0] + (item[2] ? strings.moq.replace('{moq}', item[2]) : '') + ' (' + item[3] + ')';
    });
    return strings.many.replace('{facility}', facility[0]).replace('{items}', lines.join('\n'));
  }

  function groupHtml(facilitySlug, slugs, own) {
    var facility = data.facilities[facilitySlug];
    var items = slugs.map(function (slug) { return data.products[slug]; });
    var text = message(facility, items);
    var subject = strings.subject.replace('{count}', items.length);
    var actions = [];
    if (facility[1]) actions.push('<a class="button" href="sms:' + escapeHtml(dial(facility[1])) + '?&body='
      + escapeHtml(encodeURIComponent(text)) + '">' + escapeHtml(strings.sms) + '</a>');
    if (facility[2]) actions.push('<a class="button zalo" data-zalo href="https://zalo.me/' + escapeHtml(dial(facility[2]).replace(/^\+/, ''))
      + '">' + escapeHtml(strings.zalo) + '</a>');
    if (facility[3]) actions.push('<a class="button" href="mailto:' + escapeHtml(facility[3]) + '?subject='
      + escapeHtml(encodeURIComponent(subject)) + '&body=' + escapeHtml(encodeURIComponent(text)) + '">' + escapeHtml(strings.email) + '</a>');
    return '<section class="shortlist-group" data-facility="' + escapeHtml(facilitySlug) + '"><h2><a href="'
      + escapeHtml(facility[4]) + '">' + escapeHtml(facility[0]) + '</a></h2><ul class="plain">'
      + slugs.map(function (slug) {
        var item = data.products[slug];
        return '<li><a href="' + escapeHtml(item[3]) + '">' + escapeHtml(item[0]) + '</a>'
          + (own ? ' <button type="button" data-remove="' + escapeHtml(slug) + '">' + escapeHtml(strings.remove) + '</button>' : '')
          + '</li>';
      }).join('') + '</ul><textarea class="quote-text" rows="6" readonly aria-label="' + escapeHtml(facility[0]) + '">'
      + escapeHtml(text) + '</textarea><ul class="contact-links"><li>' + actions.join('</li><li>') + '</li></ul></section>';
  }

  function render() {
    var shared = sharedSlugs(), own = !shared;
    var slugs = (shared || load()).filter(function (slug) { return slug in data.products; });
    var byFacility = {};
    slugs.forEach(function (slug) { (byFacility[data.products[slug][1]] = byFacility[data.products[slug][1]] || []).push(slug); });
    var makers = Object.keys(byFacility).filter(function (slug) { return slug in data.facilities; });
    status.textContent = slugs.length
      ? (shared ? strings.shared + ' ' : '') + strings.count.replace('{count}', slugs.length).replace('{makers}', makers.length)
      : strings.empty;
    groups.innerHTML = makers.map(function (facility) { return groupHtml(facility, byFacility[facility], own); }).join('');
    share.hidden = !slugs.length || !own;
    keep.hidden = own || !slugs.length;
    share.dataset.slugs = slugs.join(',');
  }

  groups.addEventListener('click', function (event) {
    var remove = event.target.closest('[data-remove]');
    if (remove) {
      save(load().filter(function (slug) { return slug !== remove.dataset.remove; }));
      render();
      return;
    }
    var zalo = event.target.closest('[data-zalo]');
    if (zalo) {
      event.preventDefault();
      copy(zalo.closest('section').querySelector('textarea').value).then(function () { location.href = zalo.href; });
    }
  });
  share.addEventListener('click', function () {
    var link = location.origin + location.pathname + '#' + share.dataset.slugs;
    if (navigator.share) { navigator.share({ url: link }).catch(function () {}); return; }
    copy(link).then(function () { status.textContent = strings.copied; });
  });
  keep.addEventListener('click', function () {
    var list = load();
    sharedSlugs().forEach(function (slug) { if (list.indexOf(slug) < 0 && slug in data.products) list.push(slug); });
    save(list);
    history.replaceState(null, '', location.pathname);
    render();
  });
  window.addEventListener('hashchange', function () { if (data) render(); });

  fetch(root.dataset.source).then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (loaded) { data = loaded; render(); }).catch(function () { /* offline: the status says the list is empty */ });
})();
