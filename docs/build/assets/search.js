// The search box in the header of every page of the docs site. It searches the index the build
// made (search-index.json: guides by section, operations, webhook events, problem codes) with
// MiniSearch in the page itself: nothing leaves the site. Both files are fetched the first time
// the box is focused, so a page that is only read loads neither.
// Keys: "/" focuses the box; ↑ ↓ choose a result; Enter follows it; Escape closes.
(function () {
  'use strict';
  var script = document.currentScript;
  var root = new URL('..', script ? script.src : location.href); // the site's folder (this file is in assets/)
  var box = document.querySelector('.site-search');
  var input = document.getElementById('site-search-input');
  var list = document.getElementById('site-search-results');
  var status = document.getElementById('site-search-status');
  if (!box || !input || !list || !status) return;

  var SEARCH = { boost: { keywords: 4, title: 3 }, prefix: true, fuzzy: function (term) { return term.length > 4 ? 0.2 : false; } };
  var MAX_RESULTS = 10;
  var loading = null;
  var index = null;
  var hits = [];
  var active = -1;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var element = document.createElement('script');
      element.src = src;
      element.onload = resolve;
      element.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(element);
    });
  }

  function load() {
    if (!loading) {
      var library = window.MiniSearch ? Promise.resolve() : loadScript(new URL('assets/minisearch.js', root).href);
      var data = fetch(new URL('search-index.json', root).href).then(function (response) {
        if (!response.ok) throw new Error('search-index.json answered ' + response.status);
        return response.json();
      });
      loading = Promise.all([library, data]).then(function (loaded) {
        index = window.MiniSearch.loadJS(loaded[1].index, loaded[1].options);
        return index;
      });
      loading.catch(function () {
        loading = null; // try again on the next focus
      });
    }
    return loading;
  }

  function show(message) {
    status.textContent = message;
    status.hidden = !message;
  }

  function close() {
    list.hidden = true;
    list.textContent = '';
    show('');
    hits = [];
    active = -1;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function select(i) {
    var items = list.querySelectorAll('a');
    if (!items.length) return;
    active = (i + items.length) % items.length;
    items.forEach(function (item, n) { item.setAttribute('aria-selected', n === active ? 'true' : 'false'); });
    input.setAttribute('aria-activedescendant', items[active].id);
    items[active].scrollIntoView({ block: 'nearest' });
  }

  function render(query) {
    list.textContent = '';
    active = -1;
    if (!hits.length) {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      show('Nothing found for "' + query + '".');
      return;
    }
    show('');
    hits.forEach(function (hit, n) {
      var item = document.createElement('li');
      item.setAttribute('role', 'none'); // the link is the listbox's option
      var link = document.createElement('a');
      link.id = 'site-search-result-' + n;
      link.href = new URL(hit.url, root).href;
      link.setAttribute('role', 'option');
      link.dataset.kind = hit.kind;
      var kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = hit.kind;
      var title = document.createElement('strong');
      title.textContent = hit.title;
      var where = document.createElement('span');
      where.className = 'where';
      where.textContent = hit.page;
      var excerpt = document.createElement('span');
      excerpt.className = 'excerpt';
      excerpt.textContent = hit.excerpt;
      link.append(kind, title, where, excerpt);
      link.addEventListener('click', function () { setTimeout(close, 0); });
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    select(0);
  }

  function run() {
    var query = input.value.trim();
    if (!query) return close();
    load().then(
      function (loaded) {
        if (input.value.trim() !== query) return; // a newer query is on its way
        hits = loaded.search(query, Object.assign({ combineWith: 'AND' }, SEARCH));
        if (!hits.length) hits = loaded.search(query, Object.assign({ combineWith: 'OR' }, SEARCH));
        hits = hits.slice(0, MAX_RESULTS);
        render(query);
      },
      function () {
        show(location.protocol === 'file:' ? 'Search needs the site served over HTTP (npm start, then /docs/).' : 'The search index could not be loaded.');
      },
    );
  }

  input.addEventListener('focus', function () { load().catch(function () {}); });
  input.addEventListener('input', run);
  input.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown') { event.preventDefault(); select(active + 1); }
    else if (event.key === 'ArrowUp') { event.preventDefault(); select(active - 1); }
    else if (event.key === 'Escape') { input.value = ''; close(); input.blur(); }
    else if (event.key === 'Enter') {
      event.preventDefault();
      var items = list.querySelectorAll('a');
      if (items.length) items[Math.max(active, 0)].click();
    }
  });
  box.addEventListener('focusout', function (event) {
    if (!box.contains(event.relatedTarget)) { list.hidden = true; show(''); }
  });
  input.addEventListener('focus', function () { if (list.childElementCount) list.hidden = false; });
  document.addEventListener('keydown', function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
})();
