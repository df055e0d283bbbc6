// The keys the console sends for the browser (which keeps some combinations
// for itself): each key's X keysym (noVNC, and VNC servers without the QEMU
// extended key event), its KeyboardEvent.code and its PC AT set-1 scancode
// (QEMU's extended key event and SPICE). Values as noVNC's
// core/input/keysym.js and core/input/xtscancodes.js have them.
export interface Key {
  keysym: number;
  code: string;
  /** Set-1 scancode; 0xe0XX for the extended keys. */
  xt: number;
}

const key = (keysym: number, code: string, xt: number): Key => ({ keysym, code, xt });

export const KEY = {
  ctrl: key(0xffe3, 'ControlLeft', 0x1d),
  alt: key(0xffe9, 'AltLeft', 0x38),
  del: key(0xffff, 'Delete', 0xe053),
  backspace: key(0xff08, 'Backspace', 0x0e),
  tab: key(0xff09, 'Tab', 0x0f),
  esc: key(0xff1b, 'Escape', 0x01),
  super: key(0xffeb, 'MetaLeft', 0xe05b),
  f1: key(0xffbe, 'F1', 0x3b),
  f2: key(0xffbf, 'F2', 0x3c),
  f4: key(0xffc1, 'F4', 0x3e),
  f7: key(0xffc4, 'F7', 0x41),
} as const;

/** Ctrl-Alt-Del, a button of its own. */
export const CTRL_ALT_DEL: Key[] = [KEY.ctrl, KEY.alt, KEY.del];

/** The other combinations, in the menu; `id` names the label (vmconsole:keys.<id>). */
export const COMBOS: { id: string; keys: Key[] }[] = [
  { id: 'ctrlAltF1', keys: [KEY.ctrl, KEY.alt, KEY.f1] },
  { id: 'ctrlAltF2', keys: [KEY.ctrl, KEY.alt, KEY.f2] },
  { id: 'ctrlAltF7', keys: [KEY.ctrl, KEY.alt, KEY.f7] },
  { id: 'ctrlAltBackspace', keys: [KEY.ctrl, KEY.alt, KEY.backspace] },
  { id: 'altTab', keys: [KEY.alt, KEY.tab] },
  { id: 'altF4', keys: [KEY.alt, KEY.f4] },
  { id: 'ctrlEsc', keys: [KEY.ctrl, KEY.esc] },
  { id: 'esc', keys: [KEY.esc] },
  { id: 'super', keys: [KEY.super] },
];

/** SPICE's key-down code for a set-1 scancode. */
export const spiceDown = (xt: number) => (xt < 0x100 ? xt : 0xe0 | ((xt & 0xff) << 8));
/** SPICE's key-up code: the break code (| 0x80) of the last byte. */
export const spiceUp = (xt: number) => (xt < 0x100 ? xt | 0x80 : 0xe0 | (((xt & 0xff) | 0x80) << 8));
