// What the browser shows: the first-boot setup until the controller is
// initialised, then sign in, then the console.
import { Bullseye, Spinner } from '@patternfly/react-core';
import { useEffect, useState } from 'react';
import { getSession, onSession, Session } from '../api';
import { ErrorAlert } from '../components/errors';
import { useLoad } from '../components/hooks';
import { NotifyProvider } from '../components/notify';
import { TasksProvider } from '../components/tasks';
import { Setup, setupStatus } from '../pages/setup';
import { Login } from './Login';
import { Shell } from './Shell';

export function App() {
  const [session, setS] = useState<Session | null>(getSession());
  useEffect(() => onSession(setS), []);
  const status = useLoad(() => setupStatus(), []);
  if (status.error) return <ErrorAlert error={status.error} />;
  if (!status.data)
    return (
      <Bullseye>
        <Spinner />
      </Bullseye>
    );
  if (!status.data.initialised) return <Setup status={status.data} onDone={status.reload} />;
  if (!session) return <Login />;
  return (
    <NotifyProvider>
      <TasksProvider>
        <Shell />
      </TasksProvider>
    </NotifyProvider>
  );
}
