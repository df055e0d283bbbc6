// The pop-out window: `#/console/<kind>/<uuid>?name=…&protocol=vnc|spice&connect=1`,
// the console alone without the shell (App.tsx routes it after sign-in).
import { Title } from '@patternfly/react-core';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../errors';
import { VmConsole } from '../VmConsole';

function query(): URLSearchParams {
  const h = window.location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
}

export function ConsolePage({ route }: { route: string[] }) {
  const { t } = useTranslation('vmconsole');
  const [, kind, uuid] = route;
  const q = query();
  const name = q.get('name') || uuid || '';
  const protocol = q.get('protocol') === 'spice' ? 'spice' : 'vnc';
  useEffect(() => {
    document.title = t('windowTitle', { name });
  }, [t, name]);
  if ((kind !== 'template' && kind !== 'desktop') || !uuid) {
    return (
      <div className="vdi-vmconsole-page">
        <ErrorAlert error={new Error(t('badRoute'))} />
      </div>
    );
  }
  return (
    <main className="vdi-vmconsole-page" data-testid="vm-console-page">
      <Title headingLevel="h1" size="lg">
        {t('windowTitle', { name })}
      </Title>
      <VmConsole key={`${kind}/${uuid}`} kind={kind} uuid={uuid} name={name} initialProtocol={protocol} autoConnect={q.get('connect') === '1'} canPopOut={false} fill />
    </main>
  );
}
