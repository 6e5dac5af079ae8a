// The real pusher-js, driven by the Rust API tests (tests/api/realtime.rs).
//
//   node realtime-client.js '{"key","host","port","authEndpoint","token"}'
//
// Prints one JSON object a line for what it sees (connected, subscribed,
// subscription_error, member_added, member_removed, event, error) and reads
// one command a line: {"cmd":"subscribe","channel"}, {"cmd":"trigger",
// "channel","event","data"}, {"cmd":"quit"}. Ends when stdin closes.

'use strict';

const readline = require('readline');
const Pusher = require('pusher-js');

const cfg = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const pusher = new Pusher(cfg.key, {
  wsHost: cfg.host,
  wsPort: cfg.port,
  forceTLS: false,
  enabledTransports: ['ws'],
  enableStats: false,
  cluster: '',
  channelAuthorization: {
    endpoint: cfg.authEndpoint,
    headers: { Authorization: 'Bearer ' + cfg.token },
  },
});

pusher.connection.bind('connected', () => {
  out({ type: 'connected', socket_id: pusher.connection.socket_id });
});
pusher.connection.bind('error', (e) => {
  const data = e && e.data ? e.data : null;
  out({ type: 'error', code: data && data.code, message: data && data.message });
});

function members(channel) {
  if (!channel.members) return null;
  const list = [];
  channel.members.each((m) => list.push({ id: m.id, info: m.info }));
  return { count: channel.members.count, me: channel.members.me && channel.members.me.id, list };
}

function subscribe(name) {
  const channel = pusher.subscribe(name);
  channel.bind('pusher:subscription_succeeded', () => {
    out({ type: 'subscribed', channel: name, members: members(channel) });
  });
  channel.bind('pusher:subscription_error', (e) => {
    out({ type: 'subscription_error', channel: name, status: e && e.status });
  });
  channel.bind('pusher:member_added', (m) => {
    out({ type: 'member_added', channel: name, id: m.id, info: m.info });
  });
  channel.bind('pusher:member_removed', (m) => {
    out({ type: 'member_removed', channel: name, id: m.id });
  });
  channel.bind_global((event, data) => {
    if (!event.startsWith('pusher:')) out({ type: 'event', channel: name, event, data });
  });
}

function quit() {
  pusher.disconnect();
  setTimeout(() => process.exit(0), 50);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'subscribe') subscribe(cmd.channel);
  else if (cmd.cmd === 'trigger') {
    const ok = pusher.channel(cmd.channel).trigger(cmd.event, cmd.data);
    out({ type: 'triggered', channel: cmd.channel, ok });
  } else if (cmd.cmd === 'quit') quit();
});
rl.on('close', quit);
