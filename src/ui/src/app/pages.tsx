// The console's pages: their paths, the navigation groups they sit in, and
// the component that draws each. A page owns its folder under pages/ and
// its catalogue namespace under locales/.
import { ComponentType } from 'react';
import Classrooms from '../pages/classrooms';
import Dashboard from '../pages/dashboard';
import EduGroups from '../pages/edu';
import Images from '../pages/images';
import Network from '../pages/network';
import Oplog from '../pages/oplog';
import Personal from '../pages/personal';
import Pools from '../pages/pools';
import Servers from '../pages/servers';
import Settings from '../pages/settings';
import Tasks from '../pages/tasks';
import Templates from '../pages/templates';
import Terminals from '../pages/terminals';
import Users from '../pages/users';

/** A page gets the path segments after its own (a detail view's id). */
export interface PageProps {
  rest: string[];
}

export interface PageDef {
  path: string;
  /** The nav label's key in the shell namespace. */
  label: string;
  group: 'overview' | 'infrastructure' | 'images' | 'desktops' | 'people' | 'activity' | 'system';
  component: ComponentType<PageProps>;
}

export const PAGES: PageDef[] = [
  { path: 'dashboard', label: 'nav.dashboard', group: 'overview', component: Dashboard },
  { path: 'servers', label: 'nav.servers', group: 'infrastructure', component: Servers },
  { path: 'network', label: 'nav.network', group: 'infrastructure', component: Network },
  { path: 'pools', label: 'nav.pools', group: 'infrastructure', component: Pools },
  { path: 'images', label: 'nav.images', group: 'images', component: Images },
  { path: 'templates', label: 'nav.templates', group: 'images', component: Templates },
  { path: 'classrooms', label: 'nav.classrooms', group: 'desktops', component: Classrooms },
  { path: 'edu', label: 'nav.edu', group: 'desktops', component: EduGroups },
  { path: 'personal', label: 'nav.personal', group: 'desktops', component: Personal },
  { path: 'users', label: 'nav.users', group: 'people', component: Users },
  { path: 'terminals', label: 'nav.terminals', group: 'people', component: Terminals },
  { path: 'tasks', label: 'nav.tasks', group: 'activity', component: Tasks },
  { path: 'oplog', label: 'nav.oplog', group: 'activity', component: Oplog },
  { path: 'settings', label: 'nav.settings', group: 'system', component: Settings },
];

export const GROUPS: PageDef['group'][] = ['overview', 'infrastructure', 'images', 'desktops', 'people', 'activity', 'system'];
