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

  function send(event, data) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ event: event, data: data }));
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
  // their [data-async-result]; the page changes through live events.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute('data-async')) return;
    e.preventDefault();
    var out = form.querySelector('[data-async-result]');
    var button = form.querySelector('button');
    if (button) button.disabled = true;
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) {
      if (r.ok) return form.getAttribute('data-done') || 'Done.';
      return r.json().then(function (b) { return b.error && b.error.message; },
        function () { return 'Failed (' + r.status + ').'; });
    }).then(function (text) {
      if (out) out.textContent = text || '';
    }).catch(function () {
      if (out) out.textContent = 'Blazz could not be reached.';
    }).then(function () {
      if (button) button.disabled = false;
    });
  });

  function start() {
    var list = meta('blazz-channels').split(' ');
    for (var i = 0; i < list.length; i++) if (list[i]) Live.subscribe(list[i]);
    watchRegions();
    connect();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
