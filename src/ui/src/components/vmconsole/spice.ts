// A SPICE session through spice-html5's SpiceMainConn: `uri` the gateway's
// WebSocket URL (every channel opens its own WebSocket to the same URL, which
// the one token admits for its ~30 s), `password` the SPICE ticket. It draws
// into the element named by `screen_id`, so the host gets a unique id; the
// canvas it makes is `spice_surface_0`, so one SPICE console per page.
// Keys go straight to the inputs channel as scancodes (the library's own
// sendCtrlAltDel needs a global `sc`). Loaded with import() by VmConsole.
import { SpiceChannel, SpiceMainConn } from '@spice-project/spice-html5';
import { Constants } from '@spice-project/spice-html5/src/enums.js';
import { SpiceConn } from '@spice-project/spice-html5/src/spiceconn.js';
import { SpiceMiniData, SpiceMsgcKeyDown, SpiceMsgcKeyUp } from '@spice-project/spice-html5/src/spicemsg.js';
import { Key, spiceDown, spiceUp } from './keys';
import type { OpenSession, Reason } from './session';

let seq = 0;

// Only the main channel has an error handler; every other channel throws its
// socket's error event (an uncaught page error) when it closes or fails.
// The session's fate is the main channel's: the others log instead.
const reportError = SpiceConn.prototype.report_error;
SpiceConn.prototype.report_error = function (this: { onerror?: unknown }, e: Error | Event) {
  if (this.onerror === undefined) {
    console.warn('spice channel:', e instanceof Error ? e.message : e.type);
    return;
  }
  reportError.call(this, e);
};

export const openSession: OpenSession = (host, url, password, _options, events) => {
  host.id = `vdi-spice-screen-${++seq}`;
  let closed = false;
  let connected = false;
  let conn: SpiceMainConn | null = null;

  /** Every channel's WebSocket shut, even where stop() throws half way. */
  const shut = () => {
    const c = conn;
    if (!c) return;
    const channels = [c.inputs, c.cursor, c.display, ...(c.ports || []), ...(c.extra_channels || [])].filter((x): x is SpiceChannel => !!x);
    c.state = 'closing';
    for (const ch of channels) ch.state = 'closing';
    try {
      c.stop();
    } catch {
      // the screen element may be gone already
    }
    for (const ch of [...channels, c]) {
      try {
        ch.cleanup();
      } catch {
        // closed
      }
    }
  };
  const fail = (e: Error | Event) => {
    if (closed) return;
    closed = true;
    const detail = e instanceof Error ? e.message : undefined;
    let reason: Reason;
    if (detail && /password|permission/i.test(detail)) reason = { key: 'security', detail };
    else reason = { key: connected ? 'lost' : 'refused', detail };
    shut();
    events.onDisconnected(reason);
  };
  conn = new SpiceMainConn({
    uri: url,
    password,
    screen_id: host.id,
    onerror: fail,
    onsuccess: () => {
      connected = true;
      if (!closed) events.onConnected();
    },
  });

  const send = (type: number, body: SpiceMsgcKeyDown) => {
    const m = new SpiceMiniData();
    m.build_msg(type, body);
    conn?.inputs?.send_msg(m);
  };
  return {
    close() {
      if (closed) return;
      closed = true;
      shut();
    },
    sendKeys(keys: Key[]) {
      if (!conn?.inputs || conn.inputs.state !== 'ready') return;
      for (const k of keys) {
        const d = new SpiceMsgcKeyDown();
        d.code = spiceDown(k.xt);
        send(Constants.SPICE_MSGC_INPUTS_KEY_DOWN, d);
      }
      for (const k of [...keys].reverse()) {
        const u = new SpiceMsgcKeyUp();
        u.code = spiceUp(k.xt);
        send(Constants.SPICE_MSGC_INPUTS_KEY_UP, u);
      }
    },
    setScale() {
      // spice-html5 draws at the guest's resolution; the switch is off for SPICE.
    },
    focus() {
      host.querySelector('canvas')?.focus();
    },
  };
};
