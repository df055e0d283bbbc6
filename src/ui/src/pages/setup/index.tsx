// The first-boot setup: a wizard shown until the controller is initialised.
// The first admin (setup token) or sign in, this server's root password, the
// hardware probe's NICs and mounts, the default switch and subnet, then
// controller/init as a task; when it is done the app shows sign in.
import { Button, Content, EmptyState, EmptyStateBody, Flex, Masthead, MastheadBrand, MastheadContent, MastheadMain, Page, PageSection, Spinner, Title, Wizard, WizardFooter, WizardStep, useWizardContext } from '@patternfly/react-core';
import { ReactNode, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, call, get, post, setSession, Task, taskDone, taskIdOf } from '../../api';
import { LangSwitch } from '../../app/LangSwitch';
import { ErrorAlert, useFieldErrors } from '../../components/errors';
import { AdminStep, RootStep } from './AccountSteps';
import { NetworkStep, StorageStep } from './HostSteps';
import { InitStep, ReviewStep, Run } from './InitSteps';
import { Bad, checkAdmin, checkNetwork, checkRoot, checkSwitch, emptyForm, Form, formFromProbe, initBody, localError, missingRoles, Probe, stepOfField } from './model';
import { SwitchStep } from './SwitchStep';

export interface SetupStatus {
  admin_exists: boolean;
  initialised: boolean;
  [k: string]: unknown;
}

export const setupStatus = () => get<SetupStatus>('/api/v1/setup/status');

const POLL_MS = 700;
// How long the task may be out of reach (the service can be busy while the
// management network is rebuilt) before we stop following it.
const LOST_CONTACT_MS = 90_000;
const transient = (e: unknown) => e instanceof ApiError && [0, 502, 503, 504].includes(e.status) && e.code === -1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The wizard's footer: runs the active step's action and moves on only when it succeeds. */
function Footer(p: { actions: Record<string, () => Promise<boolean>>; texts: Record<string, string>; busy: boolean; nextDisabled: (id: string) => boolean; backDisabled: boolean; goTo: { current: (id: string) => void } }) {
  const ctx = useWizardContext();
  const { t } = useTranslation('setup');
  p.goTo.current = ctx.goToStepById;
  const id = String(ctx.activeStep.id);
  return (
    <WizardFooter
      activeStep={ctx.activeStep}
      onNext={async () => {
        if (await (p.actions[id] || (async () => true))()) await ctx.goToNextStep();
      }}
      onBack={ctx.goToPrevStep}
      onClose={() => undefined}
      isCancelHidden
      nextButtonText={p.texts[id] || t('common:next')}
      backButtonText={t('common:back')}
      isNextDisabled={p.busy || p.nextDisabled(id)}
      isBackDisabled={p.busy || p.backDisabled || ctx.activeStep.index === 1}
      nextButtonProps={{ isLoading: p.busy, ...({ 'data-testid': 'setup-next' } as object) }}
      backButtonProps={{ ...({ 'data-testid': 'setup-back' } as object) }}
    />
  );
}

export function Setup({ status, onDone }: { status: SetupStatus; onDone: () => void }) {
  const { t } = useTranslation('setup');
  const [f, setF] = useState<Form>(emptyForm);
  const set = (patch: Partial<Form>) => setF((cur) => ({ ...cur, ...patch }));
  const [adminExists, setAdminExists] = useState(!!status.admin_exists);
  const [signedIn, setSignedIn] = useState(false);
  const [probe, setProbe] = useState<{ data?: Probe; error?: unknown; busy: boolean }>({ busy: false });
  const [run, setRun] = useState<Run>({ state: 'idle' });
  const [busy, setBusy] = useState(false);
  const fe = useFieldErrors();
  const goTo = useRef<(id: string) => void>(() => undefined);

  // A check failed or the service refused: show it on the step of the field it names.
  const refuse = (e: unknown, here: string) => {
    fe.fail(e);
    const step = e instanceof ApiError ? stepOfField(e.field) : null;
    if (step && step !== here) goTo.current(step);
    return false;
  };
  const bad = (b: Bad, here: string) => refuse(localError(t(b.key, { ...b.opts, what: b.opts?.what ? t(String(b.opts.what)) : undefined }), b.field), here);
  const step = (here: string, fn: () => Promise<void | boolean>) => async () => {
    fe.clear();
    setBusy(true);
    try {
      return (await fn()) !== false;
    } catch (e) {
      return refuse(e, here);
    } finally {
      setBusy(false);
    }
  };

  const runProbe = async () => {
    setProbe({ busy: true });
    try {
      // This host: the page's own address when it is one, else loopback.
      const h = window.location.hostname;
      const data = await post<Probe>('/api/v1/node/check', { ip: /^\d+\.\d+\.\d+\.\d+$/.test(h) ? h : '127.0.0.1' });
      setProbe({ data: data || {}, busy: false });
      setF((cur) => formFromProbe(cur, data || {}));
    } catch (e) {
      setProbe({ error: e, busy: false });
    }
  };

  const signIn = async () => {
    const tok = await call<{ access_token: string; refresh_token: string }>('POST', '/api/v1/login', { name: f.name.trim(), password: f.password }, { auth: false });
    setSession({ name: f.name.trim(), access_token: tok.access_token, refresh_token: tok.refresh_token });
    setSignedIn(true);
  };

  const follow = async (id: string) => {
    let lostSince = 0;
    let last: Task | undefined;
    for (;;) {
      let task: Task;
      try {
        task = await get<Task>(`/api/v1/task/${encodeURIComponent(id)}`);
      } catch (e) {
        if (transient(e)) {
          lostSince = lostSince || Date.now();
          if (Date.now() - lostSince < LOST_CONTACT_MS) {
            setRun({ state: 'running', task: last, reconnecting: true });
            await sleep(POLL_MS * 2);
            continue;
          }
        }
        setRun({ state: 'lost', task: last ? last : ({ uuid: id } as Task), error: e });
        return;
      }
      lostSince = 0;
      last = task;
      if (taskDone(task)) {
        if (task.state === 'succeeded') setRun({ state: 'done', task });
        else {
          const err = new ApiError(task.error || t(task.state === 'cancelled' ? 'task.cancelled' : 'task.noReason'), 0, 0);
          fe.fail(err);
          setRun({ state: 'failed', task, error: err });
        }
        return;
      }
      setRun({ state: 'running', task });
      await sleep(POLL_MS);
    }
  };

  const actions: Record<string, () => Promise<boolean>> = {
    admin: step('admin', async () => {
      const b = checkAdmin(f, adminExists);
      if (b) return bad(b, 'admin');
      if (adminExists && !signedIn) await signIn();
    }),
    root: step('root', async () => {
      const b = checkRoot(f);
      if (b) return bad(b, 'root');
      const rootCall = async (path: string, body: object) => {
        try {
          await post(path, body);
        } catch (e) {
          if (e instanceof ApiError && e.field === 'password') e.field = 'root_password';
          throw e;
        }
      };
      if (!signedIn) {
        // The setup token opens both; the admin spends it, so the root password goes first.
        if (f.setRoot) await rootCall('/api/v1/setup/root_password', { setup_token: f.setup_token.trim(), password: f.root_password });
        try {
          await call('POST', '/api/v1/setup/admin', { setup_token: f.setup_token.trim(), name: f.name.trim(), password: f.password }, { auth: false });
        } catch (e) {
          // Someone made the admin meanwhile: sign in with it instead.
          if (e instanceof ApiError && e.code === 11006) setAdminExists(true);
          if (e instanceof ApiError && !e.field) e.field = 'setup_token';
          throw e;
        }
        setAdminExists(true);
        await signIn();
      } else if (f.setRoot) {
        await rootCall('/api/v1/system/root_password', { password: f.root_password });
      }
      if (!probe.data && !probe.busy) void runProbe();
    }),
    network: step('network', async () => {
      const b = checkNetwork(f);
      if (b) return bad(b, 'network');
    }),
    storage: step('storage', async () => {
      const missing = missingRoles(f);
      if (missing.length) return refuse(localError(t('check.roles', { roles: missing.map((r) => t(`role.${r}`)).join(t('listSep')) }), 'storages'), 'storage');
    }),
    switch: step('switch', async () => {
      const b = checkSwitch(f);
      if (b) return bad(b, 'switch');
    }),
    review: step('review', async () => {
      // The steps stay open until the service accepts: a refusal leads back to its field.
      const id = taskIdOf(await post('/api/v1/controller/init', initBody(f)));
      if (!id) throw localError(t('task.noId'), '');
      setRun({ state: 'running' });
      void follow(id);
    }),
    init: async () => {
      // To the console: sign in there with the admin just made.
      setSession(null);
      onDone();
      return false;
    },
  };

  const started = run.state !== 'idle';
  const running = run.state === 'sending' || run.state === 'running';
  const hardware = (body: ReactNode) =>
    probe.data ? (
      body
    ) : probe.error ? (
      <>
        <ErrorAlert error={probe.error} title={t('probe.failed')} />
        <Button variant="secondary" onClick={() => void runProbe()} data-testid="setup-probe-retry">
          {t('probe.retry')}
        </Button>
      </>
    ) : (
      <EmptyState titleText={t('probe.reading')} headingLevel="h2" icon={Spinner} data-testid="setup-probing">
        <EmptyStateBody>{t('probe.slow')}</EmptyStateBody>
      </EmptyState>
    );
  // The current error when it belongs to this step (a field of it, or none named).
  const stepError = (id: string) => {
    const e = fe.error;
    if (!e) return null;
    const s = e instanceof ApiError ? stepOfField(e.field) : null;
    if (s === id || (!s && id !== 'init')) return <ErrorAlert error={e} title={e instanceof ApiError && e.code === 0 && e.status === 0 ? t('check.title') : undefined} />;
    return null;
  };
  const texts: Record<string, string> = {
    admin: adminExists && !signedIn ? t('footer.signIn') : t('common:next'),
    root: signedIn ? t('common:next') : t('footer.createAdmin'),
    review: t('footer.initialise'),
    init: t('footer.toConsole'),
  };
  const nextDisabled = (id: string) => (id === 'network' || id === 'storage' || id === 'switch' ? !probe.data : id === 'init' ? run.state !== 'done' : false);

  const steps: [string, ReactNode, boolean][] = [
    ['admin', <AdminStep f={f} set={set} fe={fe} adminExists={adminExists && !signedIn} />, signedIn],
    ['root', <RootStep f={f} set={set} fe={fe} />, started],
    ['network', hardware(probe.data && <NetworkStep f={f} set={set} fe={fe} probe={probe.data} />), started],
    ['storage', hardware(probe.data && <StorageStep f={f} set={set} fe={fe} probe={probe.data} />), started],
    ['switch', hardware(probe.data && <SwitchStep f={f} set={set} fe={fe} probe={probe.data} />), started],
    ['review', <ReviewStep f={f} />, started],
    ['init', <InitStep run={run} />, false],
  ];
  const failedRun = run.state === 'failed' || run.state === 'lost';
  return (
    <Page
      masthead={
        <Masthead>
          <MastheadMain>
            <MastheadBrand>
              <Title headingLevel="h1" size="xl">
                {t('title')}
              </Title>
            </MastheadBrand>
          </MastheadMain>
          <MastheadContent>
            <Flex alignItems={{ default: 'alignItemsCenter' }} justifyContent={{ default: 'justifyContentFlexEnd' }} flex={{ default: 'flex_1' }}>
              {typeof status.version === 'string' && <span className="vdi-muted">{t('version', { version: status.version })}</span>}
              <LangSwitch />
            </Flex>
          </MastheadContent>
        </Masthead>
      }
    >
      <PageSection>
        <Content component="p">{t('lead')}</Content>
      </PageSection>
      <PageSection type="wizard" aria-label={t('title')} isFilled>
        <Wizard
          navAriaLabel={t('steps.nav')}
          isVisitRequired
          data-testid="setup-wizard"
          footer={() => (
            <Footer
              actions={actions}
              texts={texts}
              busy={busy || running}
              nextDisabled={nextDisabled}
              backDisabled={started && !failedRun}
              goTo={goTo}
            />
          )}
          onStepChange={() => {
            // A field error stays on its step; a general one is shown once.
            if (fe.error instanceof ApiError && !stepOfField(fe.error.field) && !failedRun) fe.clear();
          }}
        >
          {steps.map(([id, body, disabled]) => (
            <WizardStep key={id} id={id} name={t(`steps.${id}`)} isDisabled={disabled && !(failedRun && id !== 'admin' && id !== 'init')}>
              <div data-testid={`setup-step-${id}`}>
                <Title headingLevel="h2" size="xl">
                  {t(`steps.${id}Title`)}
                </Title>
                {stepError(id)}
                {body}
              </div>
            </WizardStep>
          ))}
        </Wizard>
      </PageSection>
    </Page>
  );
}
