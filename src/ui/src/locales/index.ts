// Every namespace's catalogue in both languages (one JSON file each; check-i18n.mjs
// proves the two languages have the same keys and no empty string).
import en_common from './en/common.json';
import zh_common from './zh-CN/common.json';
import en_shell from './en/shell.json';
import zh_shell from './zh-CN/shell.json';
import en_login from './en/login.json';
import zh_login from './zh-CN/login.json';
import en_setup from './en/setup.json';
import zh_setup from './zh-CN/setup.json';
import en_dashboard from './en/dashboard.json';
import zh_dashboard from './zh-CN/dashboard.json';
import en_servers from './en/servers.json';
import zh_servers from './zh-CN/servers.json';
import en_network from './en/network.json';
import zh_network from './zh-CN/network.json';
import en_pools from './en/pools.json';
import zh_pools from './zh-CN/pools.json';
import en_images from './en/images.json';
import zh_images from './zh-CN/images.json';
import en_templates from './en/templates.json';
import zh_templates from './zh-CN/templates.json';
import en_classrooms from './en/classrooms.json';
import zh_classrooms from './zh-CN/classrooms.json';
import en_edu from './en/edu.json';
import zh_edu from './zh-CN/edu.json';
import en_personal from './en/personal.json';
import zh_personal from './zh-CN/personal.json';
import en_users from './en/users.json';
import zh_users from './zh-CN/users.json';
import en_terminals from './en/terminals.json';
import zh_terminals from './zh-CN/terminals.json';
import en_tasks from './en/tasks.json';
import zh_tasks from './zh-CN/tasks.json';
import en_oplog from './en/oplog.json';
import zh_oplog from './zh-CN/oplog.json';
import en_settings from './en/settings.json';
import zh_settings from './zh-CN/settings.json';

export const namespaces = ['common', 'shell', 'login', 'setup', 'dashboard', 'servers', 'network', 'pools', 'images', 'templates', 'classrooms', 'edu', 'personal', 'users', 'terminals', 'tasks', 'oplog', 'settings'] as const;

export const catalogues = {
  en: {
    common: en_common,
    shell: en_shell,
    login: en_login,
    setup: en_setup,
    dashboard: en_dashboard,
    servers: en_servers,
    network: en_network,
    pools: en_pools,
    images: en_images,
    templates: en_templates,
    classrooms: en_classrooms,
    edu: en_edu,
    personal: en_personal,
    users: en_users,
    terminals: en_terminals,
    tasks: en_tasks,
    oplog: en_oplog,
    settings: en_settings,
  },
  'zh-CN': {
    common: zh_common,
    shell: zh_shell,
    login: zh_login,
    setup: zh_setup,
    dashboard: zh_dashboard,
    servers: zh_servers,
    network: zh_network,
    pools: zh_pools,
    images: zh_images,
    templates: zh_templates,
    classrooms: zh_classrooms,
    edu: zh_edu,
    personal: zh_personal,
    users: zh_users,
    terminals: zh_terminals,
    tasks: zh_tasks,
    oplog: zh_oplog,
    settings: zh_settings,
  },
};
