// A VNC session through noVNC's RFB: the password goes in as credentials,
// the WebSocket offers the `binary` subprotocol. Loaded with import() by
// VmConsole, so noVNC (whose core/util/browser.js has a top-level await
// probing WebCodecs) runs only when a console connects, not at page load.
import RFB from '@novnc/novnc';
import type { Key } from './keys';
import type { OpenSession } from './session';

export const openSession: OpenSession = (host, url, password, options, events) => {
  const rfb = new RFB(host, url, { credentials: { password }, wsProtocols: ['binary'], shared: true });
  rfb.scaleViewport = options.scale;
  rfb.focusOnClick = true;
  let closed = false;
  let connected = false;
  let security: string | null = null;
  let credentials = false;
  rfb.addEventListener('connect', () => {
    connected = true;
    if (closed) return;
    events.onConnected();
    rfb.focus();
  });
  rfb.addEventListener('securityfailure', (e) => {
    security = e.detail.reason || String(e.detail.status);
  });
  rfb.addEventListener('credentialsrequired', () => {
    // We gave the password; a server asking for more (a user name) is not ours.
    credentials = true;
    rfb.disconnect();
  });
  rfb.addEventListener('disconnect', () => {
    if (closed) return;
    closed = true;
    if (credentials) events.onDisconnected({ key: 'credentials' });
    else if (security !== null) events.onDisconnected({ key: 'security', detail: security });
    else events.onDisconnected({ key: connected ? 'lost' : 'refused' });
  });
  return {
    close() {
      if (closed) return;
      closed = true;
      try {
        rfb.disconnect();
      } catch {
        // already gone
      }
    },
    sendKeys(keys: Key[]) {
      for (const k of keys) rfb.sendKey(k.keysym, k.code, true);
      for (const k of [...keys].reverse()) rfb.sendKey(k.keysym, k.code, false);
      rfb.focus();
    },
    setScale(on: boolean) {
      rfb.scaleViewport = on;
    },
    focus() {
      rfb.focus();
    },
  };
};
