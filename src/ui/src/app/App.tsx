// What the browser shows: the first-boot setup until the controller is
// initialised, then sign in, then the console; `#/console/<kind>/<uuid>`
// (a VM console's pop-out window) shows that console alone, without the shell.
import { Bullseye, Spinner } from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { getSession, onSession, Session } from '../api';
import { ErrorAlert } from '../components/errors';
import { useLoad } from '../components/hooks';
import { NotifyProvider } from '../components/notify';
import { TasksProvider } from '../components/tasks';
import { ConsolePage } from '../components/vmconsole/ConsolePage';
import { Setup, setupStatus } from '../pages/setup';
import { Login } from './Login';
import { useRoute } from './router';
import { Shell } from './Shell';

export function App() {
  const [session, setS] = useState<Session | null>(getSession());
  useEffect(() => onSession(setS), []);
  const status = useLoad(() => setupStatus(), []);
  const route = useRoute();
  if (status.error) return <ErrorAlert error={status.error} />;
  if (!status.data)
    return (
      <Bullseye>
        <Spinner />
      </Bullseye>
    );
  if (!status.data.initialised) return <Setup status={status.data} onDone={status.reload} />;
  if (!session) return <Login />;
  if (route[0] === 'console') return <ConsolePage route={route} />;
  return (
    <NotifyProvider>
      <TasksProvider>
        <Shell />
      </TasksProvider>
    </NotifyProvider>
  );
}
