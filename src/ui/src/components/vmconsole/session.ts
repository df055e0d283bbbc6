// What VmConsole asks of a protocol's client (vnc.ts, spice.ts): open on a
// host element with the gateway's WebSocket URL and the password, report
// connected / disconnected, send keys, close.
import type { Key } from './keys';

export type Protocol = 'vnc' | 'spice';
export type ConsoleKind = 'template' | 'desktop';

/** Why a session ended (not said when the admin disconnected). */
export interface Reason {
  key: 'lost' | 'refused' | 'security' | 'credentials' | 'error';
  /** The client library's or the server's own words, shown as they are. */
  detail?: string;
}

export interface SessionEvents {
  onConnected(): void;
  onDisconnected(reason: Reason): void;
}

export interface SessionOptions {
  scale: boolean;
}

export interface ConsoleSession {
  /** Ends the session; no event follows. */
  close(): void;
  /** Presses the keys in order, releases them in reverse. */
  sendKeys(keys: Key[]): void;
  setScale(on: boolean): void;
  focus(): void;
}

export type OpenSession = (host: HTMLElement, url: string, password: string, options: SessionOptions, events: SessionEvents) => ConsoleSession;

/** `console/open`'s reply. */
export interface ConsoleTicket {
  token: string;
  expires_in: number;
  protocol: Protocol;
  path: string;
  password: string;
  vv: string | null;
}

/** The gateway's WebSocket URL: this page's host, wss: under https. */
export function wsUrl(path: string): string {
  const l = window.location;
  return `${l.protocol === 'https:' ? 'wss:' : 'ws:'}//${l.host}${path.startsWith('/') ? path : `/${path}`}`;
}

/** The pop-out window's address (App.tsx routes `#/console/<kind>/<uuid>` without the shell). */
export function consoleRoute(kind: ConsoleKind, uuid: string, name: string, protocol: Protocol, connect: boolean): string {
  const q = new URLSearchParams({ name, protocol });
  if (connect) q.set('connect', '1');
  return `console/${kind}/${encodeURIComponent(uuid)}?${q.toString()}`;
}

/** Saves text as a file (the .vv for remote-viewer). */
export function saveFile(text: string, filename: string, type = 'application/x-virt-viewer') {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
