// A VM's screen in the page: VNC (noVNC) or SPICE (spice-html5) through the
// service's WebSocket gateway. Connect asks `POST /api/v1/console/open` for a
// token (single use for VNC; a SPICE token admits every channel's WebSocket
// for ~30 s), so every connect, and every reconnect, opens a new one. Around
// the screen: the protocol, connect / disconnect and the state, Ctrl-Alt-Del
// and other keys the browser keeps for itself, scale to window (VNC), full
// screen, pop out (#/console/<kind>/<uuid>, App.tsx) and the .vv file for
// remote-viewer. The clients load with import() on the first connect.
import {
  Alert,
  Button,
  Dropdown,
  DropdownItem,
  DropdownList,
  Label,
  MenuToggle,
  Switch,
  ToggleGroup,
  ToggleGroupItem,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
  Tooltip,
} from '@patternfly/react-core';
import CompressIcon from '@patternfly/react-icons/dist/esm/icons/compress-icon';
import ConnectedIcon from '@patternfly/react-icons/dist/esm/icons/connected-icon';
import DisconnectedIcon from '@patternfly/react-icons/dist/esm/icons/disconnected-icon';
import DownloadIcon from '@patternfly/react-icons/dist/esm/icons/download-icon';
import ExpandIcon from '@patternfly/react-icons/dist/esm/icons/expand-icon';
import ExternalLinkAltIcon from '@patternfly/react-icons/dist/esm/icons/external-link-alt-icon';
import KeyboardIcon from '@patternfly/react-icons/dist/esm/icons/keyboard-icon';
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../api';
import { href } from '../app/router';
import { ErrorAlert } from './errors';
import { COMBOS, CTRL_ALT_DEL, Key } from './vmconsole/keys';
import { ConsoleKind, ConsoleSession, ConsoleTicket, consoleRoute, OpenSession, Protocol, Reason, saveFile, wsUrl } from './vmconsole/session';
import './vmconsole/vmconsole.css';

export type { ConsoleKind, Protocol } from './vmconsole/session';

export type ConsoleState = 'connecting' | 'connected' | 'disconnected';
type Why = Reason | 'closed' | 'poppedOut' | 'openFailed' | null;

export interface VmConsoleProps {
  kind: ConsoleKind;
  uuid: string;
  name: string;
  /** Connects once on mount (the pop-out window, the desktop dialog). */
  autoConnect?: boolean;
  initialProtocol?: Protocol;
  /** Fills its parent's height (the pop-out window) instead of 70% of the window's. */
  fill?: boolean;
  /** Shows "Pop out" (not in the pop-out window itself). */
  canPopOut?: boolean;
}

const loaders: Record<Protocol, () => Promise<OpenSession>> = {
  vnc: () => import('./vmconsole/vnc').then((m) => m.openSession),
  spice: () => import('./vmconsole/spice').then((m) => m.openSession),
};

export function VmConsole({ kind, uuid, name, autoConnect = false, initialProtocol = 'vnc', fill = false, canPopOut = true }: VmConsoleProps) {
  const { t } = useTranslation('vmconsole');
  const id = useId();
  const [protocol, setProtocol] = useState<Protocol>(initialProtocol);
  const [state, setState] = useState<ConsoleState>('disconnected');
  const [why, setWhy] = useState<Why>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [scale, setScale] = useState(true);
  const [keysOpen, setKeysOpen] = useState(false);
  const [fullscreen, setFullscreen] = useState(false);
  const [vvBusy, setVvBusy] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const screenRef = useRef<HTMLDivElement>(null);
  const sessionRef = useRef<ConsoleSession | null>(null);
  const hostRef = useRef<HTMLDivElement | null>(null);
  /** Bumped by every connect, disconnect and unmount: late answers of an older one are dropped. */
  const genRef = useRef(0);
  const scaleRef = useRef(scale);
  scaleRef.current = scale;

  /** Ends the session and removes the element its client drew into. */
  const teardown = useCallback(() => {
    sessionRef.current?.close();
    sessionRef.current = null;
    hostRef.current?.remove();
    hostRef.current = null;
  }, []);

  const connect = useCallback(
    async (proto: Protocol) => {
      const gen = ++genRef.current;
      teardown();
      setState('connecting');
      setWhy(null);
      setError(null);
      setNotice(null);
      try {
        // The client first: the token's window starts with the reply.
        const open = await loaders[proto]();
        if (gen !== genRef.current) return;
        const ticket = await post<ConsoleTicket>('/api/v1/console/open', { kind, uuid, protocol: proto });
        if (gen !== genRef.current || !screenRef.current) return;
        const host = document.createElement('div');
        host.className = 'vdi-vmconsole-host';
        host.dataset.protocol = proto;
        screenRef.current.appendChild(host);
        hostRef.current = host;
        sessionRef.current = open(host, wsUrl(ticket.path), ticket.password, { scale: scaleRef.current }, {
          onConnected: () => {
            if (gen === genRef.current) setState('connected');
          },
          onDisconnected: (reason) => {
            if (gen !== genRef.current) return;
            genRef.current++;
            teardown();
            setState('disconnected');
            setWhy(reason);
          },
        });
      } catch (e) {
        if (gen !== genRef.current) return;
        genRef.current++;
        teardown();
        setState('disconnected');
        setWhy('openFailed');
        setError(e);
      }
    },
    [kind, uuid, teardown],
  );

  const disconnect = useCallback(
    (because: Why = 'closed') => {
      genRef.current++;
      teardown();
      setState('disconnected');
      setWhy(because);
    },
    [teardown],
  );

  // Connect once when asked; disconnect cleanly when the page goes (a layout
  // effect, so the client still finds its elements in the document).
  useEffect(() => {
    if (autoConnect) void connect(initialProtocol);
  }, []); // once: the props a mount starts with
  useLayoutEffect(
    () => () => {
      genRef.current++;
      teardown();
    },
    [teardown],
  );

  useEffect(() => {
    const on = () => {
      setFullscreen(document.fullscreenElement === rootRef.current && !!rootRef.current);
      sessionRef.current?.focus();
    };
    document.addEventListener('fullscreenchange', on);
    return () => document.removeEventListener('fullscreenchange', on);
  }, []);

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void rootRef.current?.requestFullscreen().catch(() => setNotice(t('fullscreenDenied')));
  };

  const send = (keys: Key[]) => sessionRef.current?.sendKeys(keys);

  const popOut = () => {
    const w = window.open(href(consoleRoute(kind, uuid, name, protocol, true)), `vdi-console-${kind}-${uuid}`, 'popup=yes,width=1280,height=860');
    if (!w) {
      setNotice(t('popOutBlocked'));
      return;
    }
    // SPICE lets one client in, and a VNC token serves one: the new window takes over.
    disconnect('poppedOut');
  };

  const downloadVv = async () => {
    setVvBusy(true);
    setError(null);
    setNotice(null);
    try {
      const ticket = await post<ConsoleTicket>('/api/v1/console/open', { kind, uuid, protocol: 'spice' });
      let vv = ticket.vv;
      if (!vv && kind === 'template') vv = (await post<{ vv: string }>('/api/v1/template/console', { uuid })).vv;
      if (vv) saveFile(vv, `${name}.vv`);
      else setNotice(t('noVv'));
    } catch (e) {
      setError(e);
    }
    setVvBusy(false);
  };

  const connected = state === 'connected';
  const idle = state === 'disconnected';
  let reasonText = '';
  if (why === 'closed') reasonText = t('reason.closed');
  else if (why === 'poppedOut') reasonText = t('reason.poppedOut');
  else if (why === 'openFailed') reasonText = t('reason.openFailed');
  else if (why) reasonText = why.detail ? t('reason.withDetail', { reason: t(`reason.${why.key}`), detail: why.detail }) : t(`reason.${why.key}`);
  else if (idle) reasonText = t('reason.idle');
  const label = { connecting: 'blue', connected: 'green', disconnected: 'grey' } as const;
  const inRoot = () => rootRef.current || document.body;

  const scaleSwitch = (
    <Switch
      id={`${id}-scale`}
      label={t('scale')}
      isChecked={protocol === 'vnc' && scale}
      isDisabled={protocol !== 'vnc'}
      onChange={(_e, on) => {
        setScale(on);
        sessionRef.current?.setScale(on);
      }}
      data-testid="vm-console-scale"
    />
  );

  return (
    <div ref={rootRef} className={`vdi-vmconsole${fill ? ' vdi-vmconsole--fill' : ''}`} data-testid="vm-console" data-kind={kind} data-uuid={uuid}>
      <Toolbar inset={{ default: 'insetNone' }} className="vdi-vmconsole-toolbar">
        <ToolbarContent>
          <ToolbarGroup>
            <ToolbarItem>
              <ToggleGroup aria-label={t('protocol')} isCompact>
                <ToggleGroupItem text={t('vnc')} buttonId={`${id}-vnc`} isSelected={protocol === 'vnc'} isDisabled={!idle} onChange={() => setProtocol('vnc')} data-testid="vm-console-proto-vnc" />
                <ToggleGroupItem text={t('spice')} buttonId={`${id}-spice`} isSelected={protocol === 'spice'} isDisabled={!idle} onChange={() => setProtocol('spice')} data-testid="vm-console-proto-spice" />
              </ToggleGroup>
            </ToolbarItem>
            <ToolbarItem>
              {idle ? (
                <Button variant="primary" icon={<ConnectedIcon />} onClick={() => void connect(protocol)} data-testid="vm-console-connect">
                  {t('connect')}
                </Button>
              ) : (
                <Button variant="secondary" icon={<DisconnectedIcon />} onClick={() => disconnect()} data-testid="vm-console-disconnect">
                  {t('disconnect')}
                </Button>
              )}
            </ToolbarItem>
            <ToolbarItem alignSelf="center">
              <span data-testid="vm-console-status" data-state={state} role="status" aria-live="polite">
                <Label color={label[state]} isCompact>
                  {t(`state.${state}`)}
                </Label>
                {reasonText && <span className="vdi-muted vdi-vmconsole-reason"> {reasonText}</span>}
              </span>
            </ToolbarItem>
          </ToolbarGroup>
          <ToolbarGroup>
            <ToolbarItem>
              <Button variant="secondary" icon={<KeyboardIcon />} isDisabled={!connected} onClick={() => send(CTRL_ALT_DEL)} data-testid="vm-console-cad">
                {t('ctrlAltDel')}
              </Button>
            </ToolbarItem>
            <ToolbarItem>
              <Dropdown
                isOpen={keysOpen}
                onOpenChange={setKeysOpen}
                onSelect={() => setKeysOpen(false)}
                popperProps={{ appendTo: 'inline' }}
                toggle={(ref) => (
                  <MenuToggle ref={ref} onClick={() => setKeysOpen(!keysOpen)} isExpanded={keysOpen} isDisabled={!connected} data-testid="vm-console-keys">
                    {t('keys.more')}
                  </MenuToggle>
                )}
              >
                <DropdownList>
                  {COMBOS.map((c) => (
                    <DropdownItem key={c.id} value={c.id} onClick={() => send(c.keys)} data-testid={`vm-console-key-${c.id}`}>
                      {t(`keys.${c.id}`)}
                    </DropdownItem>
                  ))}
                </DropdownList>
              </Dropdown>
            </ToolbarItem>
            <ToolbarItem alignSelf="center">
              {protocol === 'vnc' ? (
                scaleSwitch
              ) : (
                <Tooltip content={t('scaleSpice')} appendTo={inRoot}>
                  <span tabIndex={0}>{scaleSwitch}</span>
                </Tooltip>
              )}
            </ToolbarItem>
          </ToolbarGroup>
          <ToolbarGroup align={{ default: 'alignEnd' }}>
            <ToolbarItem>
              <Button variant="plain" icon={fullscreen ? <CompressIcon /> : <ExpandIcon />} onClick={toggleFullscreen} aria-label={fullscreen ? t('exitFullscreen') : t('fullscreen')} data-testid="vm-console-fullscreen" />
            </ToolbarItem>
            {canPopOut && (
              <ToolbarItem>
                <Button variant="link" icon={<ExternalLinkAltIcon />} onClick={popOut} data-testid="vm-console-popout">
                  {t('popOut')}
                </Button>
              </ToolbarItem>
            )}
            <ToolbarItem>
              <Button variant="link" icon={<DownloadIcon />} onClick={() => void downloadVv()} isLoading={vvBusy} isDisabled={vvBusy} data-testid="vm-console-vv">
                {t('downloadVv')}
              </Button>
            </ToolbarItem>
          </ToolbarGroup>
        </ToolbarContent>
      </Toolbar>
      <ErrorAlert error={error} />
      {notice && <Alert isInline isPlain variant="warning" title={notice} />}
      <div ref={screenRef} className="vdi-vmconsole-screen" data-testid="vm-console-screen" data-protocol={protocol} role="region" aria-label={t('screen', { name })}>
        {!connected && <div className="vdi-vmconsole-idle">{state === 'connecting' ? t('connecting', { name, protocol: t(protocol) }) : t('idle', { name })}</div>}
      </div>
    </div>
  );
}
