// Types for the part of spice-html5 (@spice-project/spice-html5 0.2.1:
// plain ES modules under src/, `main` src/main.js, no `exports` map, no
// types) the console uses. SpiceMainConn takes the WebSocket URL as `uri`
// and the SPICE ticket as `password` (it RSA-encrypts it with the server's
// key, then opens one more WebSocket to the same URL per channel); it draws
// into the element whose id is `screen_id` (found with getElementById).
declare module '@spice-project/spice-html5' {
  export interface SpiceChannel {
    /** connecting, start, link, ticket, ready, closing, error */
    state: string;
    ws?: WebSocket;
    send_msg(msg: unknown): void;
    cleanup(): void;
  }

  export interface SpiceMainConnOptions {
    uri: string;
    password: string;
    screen_id?: string;
    message_id?: string;
    dump_id?: string;
    onerror?: (e: Error | Event) => void;
    onsuccess?: (message: string) => void;
    onagent?: (conn: SpiceMainConn) => void;
  }

  export class SpiceMainConn implements SpiceChannel {
    constructor(options: SpiceMainConnOptions);
    state: string;
    ws?: WebSocket;
    inputs?: SpiceChannel;
    cursor?: SpiceChannel;
    display?: SpiceChannel;
    ports?: SpiceChannel[];
    extra_channels?: (SpiceChannel | undefined)[];
    send_msg(msg: unknown): void;
    cleanup(): void;
    /** Closes every channel; throws when the screen element is gone. */
    stop(): void;
    resize_window(flags: number, width: number, height: number, depth: number, x: number, y: number): void;
  }

  /** Needs a global `sc` (window.sc) holding the connection; keys.ts does not use it. */
  export function sendCtrlAltDel(): void;
}

declare module '@spice-project/spice-html5/src/spicemsg.js' {
  interface SpiceMessageBody {
    buffer_size(): number;
    to_buffer(a: ArrayBuffer, at?: number): number;
  }
  export class SpiceMiniData {
    type: number;
    size: number;
    build_msg(type: number, extra: SpiceMessageBody): void;
  }
  /** `code` is a PC AT (set 1) scancode: 0xe0 | low << 8 for extended keys. */
  export class SpiceMsgcKeyDown implements SpiceMessageBody {
    constructor(e?: KeyboardEvent);
    code: number;
    buffer_size(): number;
    to_buffer(a: ArrayBuffer, at?: number): number;
  }
  export class SpiceMsgcKeyUp extends SpiceMsgcKeyDown {}
}

declare module '@spice-project/spice-html5/src/enums.js' {
  export const Constants: { readonly SPICE_MSGC_INPUTS_KEY_DOWN: number; readonly SPICE_MSGC_INPUTS_KEY_UP: number } & Record<string, number>;
}

declare module '@spice-project/spice-html5/src/spiceconn.js' {
  /** The base of every channel; `report_error` throws without `onerror`. */
  export const SpiceConn: {
    prototype: { report_error(this: unknown, e: Error | Event): void };
  };
}
