// Tasks from anywhere: pages start slow work with `async: true` and hand the
// task id to `useTasks().track`; the header's badge counts running tasks and
// opens a drawer with their live progress. `runTask` starts, tracks and
// waits, resolving with the finished task or rejecting with its error.
import { createContext, ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { ApiError, call, get, list, Task, taskDone, taskIdOf } from '../api';

interface Tracked {
  id: string;
  title: string;
  task?: Task;
}

interface TasksApi {
  tracked: Tracked[];
  running: Task[];
  drawerOpen: boolean;
  setDrawerOpen: (o: boolean) => void;
  track: (id: string, title: string) => void;
  forget: (id: string) => void;
  /** Calls `path` with `async: true`, tracks the task and waits for it. */
  runTask: (title: string, method: string, path: string, body: Record<string, unknown>, onProgress?: (t: Task) => void) => Promise<Task>;
}

const Ctx = createContext<TasksApi | null>(null);

export function TasksProvider({ children }: { children: ReactNode }) {
  const [tracked, setTracked] = useState<Tracked[]>([]);
  const [running, setRunning] = useState<Task[]>([]);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const waiters = useRef(new Map<string, ((t: Task) => void)[]>());
  const progress = useRef(new Map<string, (t: Task) => void>());

  const track = useCallback((id: string, title: string) => {
    setTracked((ts) => (ts.some((x) => x.id === id) ? ts : [{ id, title }, ...ts].slice(0, 20)));
  }, []);
  const forget = useCallback((id: string) => setTracked((ts) => ts.filter((x) => x.id !== id)), []);

  const trackedRef = useRef(tracked);
  trackedRef.current = tracked;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const r = await list<Task>('task', { page: 1, pageSize: 50, filters: { state: 'running' } });
        const q = await list<Task>('task', { page: 1, pageSize: 50, filters: { state: 'queued' } });
        if (!stop) setRunning([...r.results, ...q.results]);
      } catch {
        /* the badge keeps its last count */
      }
      const open = trackedRef.current.filter((x) => !x.task || !taskDone(x.task));
      for (const x of open) {
        try {
          const t = await get<Task>(`/api/v1/task/${encodeURIComponent(x.id)}`);
          if (stop) return;
          setTracked((ts) => ts.map((y) => (y.id === x.id ? { ...y, task: t } : y)));
          progress.current.get(x.id)?.(t);
          if (taskDone(t)) {
            (waiters.current.get(x.id) || []).forEach((w) => w(t));
            waiters.current.delete(x.id);
            progress.current.delete(x.id);
          }
        } catch {
          /* next round */
        }
      }
      if (!stop) timer = setTimeout(poll, open.length ? 800 : 3000);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);

  const runTask = useCallback<TasksApi['runTask']>(
    async (title, method, path, body, onProgress) => {
      const data = await call(method, path, { ...body, async: true });
      const id = taskIdOf(data);
      if (!id) throw new ApiError('no task id', -1, 200);
      const done = new Promise<Task>((resolve) => {
        waiters.current.set(id, [...(waiters.current.get(id) || []), resolve]);
      });
      if (onProgress) progress.current.set(id, onProgress);
      track(id, title);
      const t = await done;
      // A failed task carries its message, not an envelope code (-2: shown without a code).
      if (t.state !== 'succeeded') throw new ApiError(t.error || t.state, -2, 200);
      return t;
    },
    [track],
  );

  return <Ctx.Provider value={{ tracked, running, drawerOpen, setDrawerOpen, track, forget, runTask }}>{children}</Ctx.Provider>;
}

export function useTasks(): TasksApi {
  const c = useContext(Ctx);
  if (!c) throw new Error('useTasks outside TasksProvider');
  return c;
}
