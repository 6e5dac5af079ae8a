// Blazz live updates: a small Pusher-protocol (v7) client over a plain
// WebSocket, and the page behaviour it drives through data attributes.
// No libraries; see docs/web.md.
(function () {
  'use strict';

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute('content') : '';
  }

  var key = meta('blazz-realtime-key');
  var csrf = meta('csrf-token');
  var handlers = {}; // "channel event" -> [fn]
  var channels = {}; // name -> subscribed?
  var ws = null;
  var socketId = null;
  var attempts = 0;
  var stopped = false;
  var activityMs = 120000;
  var idleTimer = null;
  var pongTimer = null;

  function setState(s) {
    var els = document.querySelectorAll('[data-live-state]');
    for (var i = 0; i < els.length; i++) els[i].setAttribute('data-live-state', s);
  }

  function send(event, data, channel) {
    var frame = { event: event, data: data };
    if (channel) frame.channel = channel;
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
  }

  function emit(channel, event, data) {
    var list = (handlers[channel + ' ' + event] || []).concat(handlers['* ' + event] || []);
    for (var i = 0; i < list.length; i++) {
      try { list[i](data, channel); } catch (e) { console.error(e); }
    }
  }

  // The server pings a silent socket; we also ping when we heard nothing
  // for the activity timeout, and give up on the socket without a pong.
  function heard() {
    clearTimeout(idleTimer);
    clearTimeout(pongTimer);
    idleTimer = setTimeout(function () {
      send('pusher:ping', {});
      pongTimer = setTimeout(function () { if (ws) ws.close(); }, 30000);
    }, activityMs);
  }

  function authorise(channel) {
    if (channel.indexOf('private-') !== 0 && channel.indexOf('presence-') !== 0) {
      send('pusher:subscribe', { channel: channel });
      return;
    }
    var body = new URLSearchParams({ socket_id: socketId, channel_name: channel });
    fetch('/broadcasting/auth', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-TOKEN': csrf },
      body: body
    }).then(function (r) {
      if (!r.ok) throw new Error('channel authorisation answered ' + r.status);
      return r.json();
    }).then(function (a) {
      var data = { channel: channel, auth: a.auth };
      if (a.channel_data) data.channel_data = a.channel_data;
      send('pusher:subscribe', data);
    }).catch(function (e) { console.warn('blazz live:', channel, e.message); });
  }

  function reconnect(code) {
    ws = null;
    socketId = null;
    clearTimeout(idleTimer);
    clearTimeout(pongTimer);
    setState('offline');
    if (stopped) return;
    if (code >= 4000 && code < 4100 && code !== 4001) return; // told not to
    var delay = code >= 4200 && code < 4300 ? 0
      : Math.min(30000, 1000 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
    attempts++;
    setTimeout(function () {
      if (code !== 4001) return connect();
      // Unknown key: the credentials were rotated; read the new key.
      fetch('/api/v1/realtime', { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (v) { if (v && v.key) key = v.key; connect(); })
        .catch(function () { connect(); });
    }, delay);
  }

  function connect() {
    if (!key || !window.WebSocket) return;
    setState('connecting');
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var socket = new WebSocket(scheme + location.host + '/app/' + encodeURIComponent(key) +
      '?protocol=7&client=blazz-web&version=1');
    ws = socket;
    socket.onmessage = function (m) {
      heard();
      var f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      var data = f.data;
      if (typeof data === 'string') { try { data = JSON.parse(data); } catch (e) { /* text */ } }
      switch (f.event) {
        case 'pusher:connection_established':
          socketId = data.socket_id;
          if (data.activity_timeout) activityMs = data.activity_timeout * 1000;
          attempts = 0;
          for (var c in channels) { channels[c] = false; authorise(c); }
          return;
        case 'pusher:ping': send('pusher:pong', {}); return;
        case 'pusher:pong': return;
        case 'pusher:error': console.warn('blazz live:', data && data.message); return;
        case 'pusher_internal:subscription_succeeded':
          channels[f.channel] = true;
          setState('live');
          emit(f.channel, 'subscribed', data);
          return;
        default:
          if (f.channel) emit(f.channel, f.event, data);
      }
    };
    socket.onclose = function (e) { if (ws === socket) reconnect(e.code); };
  }

  var Live = {
    subscribe: function (channel) {
      if (channel in channels) return;
      channels[channel] = false;
      if (socketId) authorise(channel);
    },
    on: function (channel, event, fn) {
      (handlers[channel + ' ' + event] = handlers[channel + ' ' + event] || []).push(fn);
    },
    // A client event (`client-*`) to the channel's other subscribers.
    trigger: function (channel, event, data) {
      if (channels[channel]) send(event, data, channel);
    },
    stop: function () { stopped = true; if (ws) ws.close(); }
  };
  window.BlazzLive = Live;

  // ---- page behaviour -------------------------------------------------

  var labels = {};
  try { labels = JSON.parse(meta('blazz-status-labels') || '{}'); } catch (e) { /* none */ }

  // Status badges: <span data-status-for="{account_id}">.
  Live.on('*', 'account.status', function (d) {
    var els = document.querySelectorAll('[data-status-for="' + d.account_id + '"]');
    for (var i = 0; i < els.length; i++) {
      els[i].textContent = labels[d.status] || d.status;
      els[i].setAttribute('data-status', d.status);
    }
  });

  // Regions the server re-renders: <section id=".." data-refresh-account="{id}">
  // is fetched again (same page, same id) when that number's status or QR
  // code changes, and once subscribed (for what happened before).
  var refreshing = null;
  function refresh() {
    if (refreshing) { refreshing.again = true; return; }
    refreshing = { again: false };
    fetch(location.pathname, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var els = document.querySelectorAll('[data-refresh-account]');
        for (var i = 0; i < els.length; i++) {
          var fresh = doc.getElementById(els[i].id);
          if (fresh) els[i].innerHTML = fresh.innerHTML;
        }
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () {
        var again = refreshing.again;
        refreshing = null;
        if (again) refresh();
      });
  }
  function watchRegions() {
    var els = document.querySelectorAll('[data-refresh-account]');
    for (var i = 0; i < els.length; i++) {
      var id = els[i].getAttribute('data-refresh-account');
      var ch = 'private-account.' + id;
      Live.on(ch, 'account.status', refresh);
      Live.on(ch, 'account.qr', refresh);
      Live.on(ch, 'subscribed', refresh);
    }
  }

  // Forms marked data-async post in the background and show the answer in
  // their [data-async-result]; the page changes through live events. A
  // redirect is success; a refusal is the API's JSON error or the page's
  // own error box. data-reset clears the form (and [data-clear-on-sent]).
  // What the script says itself comes from the page's catalogue.
  var said = {};
  try { said = JSON.parse(meta('blazz-script-text') || '{}'); } catch (e) { /* none */ }
  function say(key, status) {
    return (said[key] || key).replace('{status}', String(status));
  }
  function refusal(r) {
    var type = r.headers.get('content-type') || '';
    if (type.indexOf('text/html') === 0) {
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var e = doc.querySelector('[role=alert]') || doc.querySelector('main p');
        return e ? e.textContent : say('failed', r.status);
      });
    }
    return r.json().then(function (b) { return b.error && b.error.message; },
      function () { return say('failed', r.status); });
  }
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute('data-async')) return;
    e.preventDefault();
    var out = form.querySelector('[data-async-result]');
    var button = form.querySelector('button[type=submit]') || form.querySelector('button');
    if (button) button.disabled = true;
    var data = new FormData(form);
    var multipart = (form.getAttribute('enctype') || '').indexOf('multipart') === 0;
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      redirect: 'manual',
      body: multipart ? data : new URLSearchParams(data)
    }).then(function (r) {
      if (r.ok || r.type === 'opaqueredirect') {
        if (form.hasAttribute('data-reset')) {
          form.reset();
          var gone = form.querySelectorAll('[data-clear-on-sent]');
          for (var i = 0; i < gone.length; i++) gone[i].parentNode.removeChild(gone[i]);
        }
        return form.getAttribute('data-done') || say('done');
      }
      return refusal(r);
    }).then(function (text) {
      if (out) out.textContent = text || '';
    }).catch(function () {
      if (out) out.textContent = say('unreachable');
    }).then(function () {
      if (button) button.disabled = false;
    });
  });

  function html(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(url + ' answered ' + r.status);
      return r.text();
    }).then(function (text) {
      return new DOMParser().parseFromString(text, 'text/html').body;
    });
  }

  // Regions rendered again by the server: an element with data-fragment
  // (its URL), data-channel and data-refresh-on (event names) is fetched
  // again on those events, and once subscribed.
  function watchFragments() {
    var els = document.querySelectorAll('[data-fragment][data-refresh-on]');
    for (var i = 0; i < els.length; i++) (function (el) {
      var busy = false, again = false;
      function load() {
        if (busy) { again = true; return; }
        busy = true;
        html(el.getAttribute('data-fragment')).then(function (body) {
          var fresh = el.id && body.querySelector('#' + el.id);
          el.innerHTML = fresh ? fresh.innerHTML : body.innerHTML;
        }).catch(function () { /* the next event tries again */ }).then(function () {
          busy = false;
          if (again) { again = false; load(); }
        });
      }
      var ch = el.getAttribute('data-channel');
      var names = el.getAttribute('data-refresh-on').split(' ').concat(['subscribed']);
      for (var j = 0; j < names.length; j++) Live.on(ch, names[j], load);
    })(els[i]);
  }

  // A conversation: new messages are appended (or replace the bubble of
  // the same id), a bubble whose status moved is fetched again, older
  // messages load when scrolled to the top.
  function watchThread() {
    var list = document.querySelector('[data-thread][data-live]');
    var wrap = document.querySelector('[data-thread-wrap]');
    if (wrap) wrap.scrollTop = wrap.scrollHeight;
    if (!list) return;
    var base = list.getAttribute('data-fragment');
    var ch = list.getAttribute('data-channel');
    var busy = false, again = false;
    function put(li) {
      var old = li.id && document.getElementById(li.id);
      if (old) old.parentNode.replaceChild(li, old);
      else list.appendChild(li);
    }
    function newer() {
      if (busy) { again = true; return; }
      busy = true;
      var atEnd = wrap && wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 80;
      html(base + '?after=' + encodeURIComponent(list.getAttribute('data-after') || '0')).then(function (body) {
        var ol = body.querySelector('ol');
        if (!ol) return;
        list.setAttribute('data-after', ol.getAttribute('data-after'));
        var items = ol.children;
        while (items.length) put(items[0]);
        var empty = document.querySelector('[data-testid=thread-empty]');
        if (empty && list.children.length) empty.parentNode.removeChild(empty);
        if (wrap && atEnd) wrap.scrollTop = wrap.scrollHeight;
      }).catch(function () { /* next event */ }).then(function () {
        busy = false;
        if (again) { again = false; newer(); }
      });
    }
    Live.on(ch, 'message.created', newer);
    Live.on(ch, 'subscribed', newer);
    Live.on(ch, 'message.updated', function (d) {
      if (!d || !d.id || !document.getElementById('m-' + d.id)) return;
      html(base + '/' + encodeURIComponent(d.id)).then(function (body) {
        var li = body.querySelector('li');
        if (li) put(li);
      }).catch(function () { /* next event */ });
    });
  }

  function watchOlder() {
    var wrap = document.querySelector('[data-thread-wrap]');
    var list = document.querySelector('[data-thread]');
    if (!wrap || !list) return;
    var loading = false;
    function older(e) {
      var link = wrap.querySelector('a[data-older]');
      if (!link || loading) return;
      if (e && e.type === 'click') e.preventDefault();
      loading = true;
      var height = wrap.scrollHeight;
      html(link.getAttribute('data-older')).then(function (body) {
        var ol = body.querySelector('ol');
        var next = body.querySelector('.older');
        var items = ol ? ol.children : [];
        var first = list.firstChild;
        while (items.length) list.insertBefore(items[0], first);
        var p = link.parentNode;
        if (next) p.parentNode.replaceChild(next, p);
        else p.parentNode.removeChild(p);
        wrap.scrollTop += wrap.scrollHeight - height;
      }).catch(function () { /* the link still works */ }).then(function () { loading = false; });
    }
    wrap.addEventListener('scroll', function () { if (wrap.scrollTop < 40) older(); });
    wrap.addEventListener('click', function (e) {
      if (e.target.closest && e.target.closest('a[data-older]')) older(e);
    });
  }

  // The customer's "typing…": shown on a typing event from the chat's
  // phone, hidden when it stops (or after a while without news).
  function watchTyping() {
    var el = document.querySelector('[data-typing-for]');
    if (!el) return;
    var timer = null;
    Live.on(el.getAttribute('data-channel'), 'typing', function (d) {
      if (!d || d.from !== el.getAttribute('data-typing-for')) return;
      el.hidden = !d.typing;
      clearTimeout(timer);
      if (d.typing) timer = setTimeout(function () { el.hidden = true; }, 15000);
    });
  }

  // Who else has this chat open: each page says so on the chat's channel
  // (a client event) every 20 s, and answers a newcomer at once.
  function watchViewers() {
    var el = document.querySelector('[data-viewers]');
    if (!el) return;
    var ch = el.getAttribute('data-channel');
    var me = { id: el.getAttribute('data-me'), name: el.getAttribute('data-name') };
    var seen = {}; // id -> {name, at}
    function show() {
      var names = [];
      var now = Date.now();
      for (var id in seen) {
        if (now - seen[id].at > 45000) delete seen[id];
        else names.push(seen[id].name);
      }
      el.hidden = names.length === 0;
      el.textContent = names.length ? el.getAttribute('data-label').replace('{names}', names.join(', ')) : '';
    }
    function announce() { Live.trigger(ch, 'client-viewing', me); }
    Live.on(ch, 'subscribed', announce);
    Live.on(ch, 'client-viewing', function (d) {
      if (!d || !d.id || d.id === me.id) return;
      var fresh = !seen[d.id];
      seen[d.id] = { name: String(d.name || ''), at: Date.now() };
      if (fresh) announce();
      show();
    });
    Live.on(ch, 'client-left', function (d) { if (d && seen[d.id]) { delete seen[d.id]; show(); } });
    setInterval(function () { announce(); show(); }, 20000);
    window.addEventListener('pagehide', function () { Live.trigger(ch, 'client-left', { id: me.id }); });
  }

  // Canned replies: the chosen one is inserted into the composer where
  // the cursor is, instead of loading the page with it.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute('data-insert-into')) return;
    var box = document.getElementById(form.getAttribute('data-insert-into'));
    var select = form.querySelector('select');
    var option = select && select.options[select.selectedIndex];
    if (!box || !option) return;
    e.preventDefault();
    var text = option.getAttribute('data-text') || '';
    var at = typeof box.selectionStart === 'number' ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === 'number' ? box.selectionEnd : at;
    box.value = box.value.slice(0, at) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = at + text.length;
  });

  function start() {
    var list = meta('blazz-channels').split(' ');
    for (var i = 0; i < list.length; i++) if (list[i]) Live.subscribe(list[i]);
    watchRegions();
    watchFragments();
    watchThread();
    watchOlder();
    watchTyping();
    watchViewers();
    connect();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
