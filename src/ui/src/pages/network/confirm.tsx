// The safe-apply window: a network change that moves the management address
// or the default route answers `confirm_required` with `confirm_within_s`;
// this shows the seconds left and a Confirm button (network/confirm), and
// says that the change rolls back by itself when not confirmed.
import { Alert, AlertActionCloseButton, Button, PageSection } from '@patternfly/react-core';
import { createContext, ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api';
import { ErrorAlert } from '../../components/errors';
import { useNotify } from '../../components/notify';

type Check = (reply: unknown) => void;
const Ctx = createContext<Check>(() => {});

/** Hand every network change's reply to this: it opens the window when asked. */
export const useNetConfirm = () => useContext(Ctx);

export function NetConfirmProvider({ children, section }: { children: ReactNode; section?: boolean }) {
  const { t } = useTranslation('network');
  const notify = useNotify();
  const [deadline, setDeadline] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [lapsed, setLapsed] = useState(false);
  const check = useCallback<Check>((reply) => {
    const r = reply as { confirm_required?: boolean; confirm_within_s?: number } | null;
    if (r && r.confirm_required) {
      setDeadline(Date.now() + (r.confirm_within_s || 60) * 1000);
      setLapsed(false);
      setError(null);
    }
  }, []);
  useEffect(() => {
    if (deadline === null) return;
    const id = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(id);
  }, [deadline]);
  const left = deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000));
  useEffect(() => {
    if (deadline !== null && left === 0) {
      setDeadline(null);
      setLapsed(true);
    }
  }, [deadline, left]);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await post('/api/v1/network/confirm', {});
      setDeadline(null);
      notify('success', t('confirm.done'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const alerts = (
    <>
      {deadline !== null && (
        <Alert
          variant="warning"
          isInline
          title={t('confirm.title', { count: left })}
          data-testid="network-confirm"
          actionLinks={
            <Button variant="primary" onClick={confirm} isLoading={busy} isDisabled={busy} data-testid="network-confirm-ok">
              {t('confirm.button')}
            </Button>
          }
        >
          <p>{t('confirm.body')}</p>
          <ErrorAlert error={error} />
        </Alert>
      )}
      {lapsed && (
        <Alert variant="info" isInline title={t('confirm.lapsed')} actionClose={<AlertActionCloseButton onClose={() => setLapsed(false)} />}>
          {t('confirm.lapsedBody')}
        </Alert>
      )}
    </>
  );
  return (
    <Ctx.Provider value={check}>
      {section && (deadline !== null || lapsed) ? (
        <PageSection padding={{ default: 'noPadding' }} style={{ padding: '1rem 1.5rem 0' }}>
          {alerts}
        </PageSection>
      ) : (
        alerts
      )}
      {children}
    </Ctx.Provider>
  );
}
