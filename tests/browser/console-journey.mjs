// The admin's journey through the console, one small step a row: its name,
// what it does (through the UI only), and what must be visible after it.
// console.mjs runs them in order (`--journey`; JOURNEY_STEPS=a,b picks some),
// logging `[journey] <step> ok (<ms>)` and a screenshot per step.
//
// A step: { name, action: async (j) => {}, visible: '<test id>' | '<css>' | async (j) => boolean, timeout?: ms,
//          allowError?: true (an error alert is what the step expects) }
// `j` (see makeJourneyContext in console.mjs): page, names (unique to the run),
// click/fill/choose(testid, …), nav(page), row(name), confirm(), see(what),
// wizard(prefix, {fill, choose}), file(name, text), qcow2, admin, password.
// Edit the table as the pages land: the test ids are the pages' own.

/** Users CSV (columns user_name,password,name,phone,email): line 3 lacks a user name. */
const badCsv = (j) => `user_name,password,name,phone,email\n${j.names.user}a,Passw0rd!,Journey A,,\n,Passw0rd!,No Name,,\n`;
const goodCsv = (j) => `user_name,password,name,phone,email\n${j.names.user}a,Passw0rd!,Journey A,,\n${j.names.user}b,Passw0rd!,Journey B,,\n`;

export const JOURNEY = [
  {
    name: 'sign-in',
    action: async (j) => {
      await j.page.goto(j.base, { waitUntil: 'load' });
      await j.see('#pf-login-username-id');
      await j.fill('#pf-login-username-id', j.admin);
      await j.fill('#pf-login-password-id', j.password);
      await j.page.click('button[type=submit]');
    },
    visible: 'user-menu',
  },
  {
    name: 'dashboard',
    action: (j) => j.nav('dashboard'),
    visible: 'dashboard-ready',
  },
  {
    name: 'create-pool',
    action: async (j) => {
      await j.nav('pools');
      await j.click('pools-create');
      await j.fill('pool-form-name', j.names.pool);
      await j.fill('pool-form-description', 'journey');
      await j.click('pool-form-submit');
    },
    visible: (j) => j.page.locator(j.row(j.names.pool)).isVisible(),
  },
  {
    name: 'upload-image',
    timeout: 180_000,
    action: async (j) => {
      if (!j.qcow2) throw new Error('VDI_QCOW2 is not set (a small qcow2 to upload)');
      await j.nav('images');
      await j.click('images-upload');
      await j.page.setInputFiles(`${j.sel('image-form-file')} input[type=file]`, j.qcow2);
      await j.fill('image-form-name', j.names.image);
      // The new pool has no server yet: the image, template and desktops go to
      // the default pool, where the controller runs desktops.
      await j.choose('image-form-pool', 'default');
      await j.click('image-form-submit');
      // The upload's progress shows (a small file may finish before we look: then the row is there).
      await j.see(async () => (await j.page.locator(j.sel('image-upload-progress')).isVisible()) || (await j.page.locator(j.row(j.names.image)).isVisible()), 30_000);
    },
    visible: (j) => j.page.locator(j.row(j.names.image)).isVisible(),
  },
  {
    name: 'create-template',
    timeout: 300_000,
    action: async (j) => {
      await j.nav('templates');
      await j.click('templates-create');
      await j.wizard('template-wizard', {
        fill: { 'template-wizard-name': j.names.template },
        choose: { 'template-wizard-image': j.names.image, 'template-wizard-pool': 'default' },
      });
    },
    // A created template opens its detail page.
    visible: async (j) => /#\/templates\/./.test(j.page.url()) && (await j.page.locator('main h1').first().innerText()).includes(j.names.template),
  },
  {
    name: 'create-classroom',
    action: async (j) => {
      await j.nav('classrooms');
      await j.click('classrooms-create');
      await j.fill('classroom-form-name', j.names.classroom);
      // The two languages' classrooms must not overlap.
      const net = j.lang.startsWith('zh') ? 62 : 61;
      await j.fill('classroom-form-start-ip', `10.213.${net}.10`);
      await j.fill('classroom-form-end-ip', `10.213.${net}.40`);
      await j.click('classroom-form-submit');
    },
    visible: (j) => j.page.locator(j.row(j.names.classroom)).isVisible(),
  },
  {
    name: 'create-edu-group',
    timeout: 300_000,
    action: async (j) => {
      await j.nav('edu');
      await j.click('edu-create');
      await j.wizard('edu-wizard', {
        // Two desktops (the classroom's 31 seats would not fit a test machine's memory).
        fill: { 'edu-wizard-name': j.names.edu, 'edu-wizard-count': '2' },
        choose: { 'edu-wizard-classroom': j.names.classroom, 'edu-wizard-template': j.names.template },
      });
    },
    // A created group opens its detail page, with its power buttons.
    visible: async (j) => /#\/edu\/./.test(j.page.url()) && (await j.page.locator(j.sel('edu-start-all')).isVisible()),
  },
  {
    name: 'start-edu-group',
    timeout: 180_000,
    action: async (j) => {
      await j.click('edu-start-all');
      await j.confirm();
    },
    // Started: the stop button is offered again once the start has finished.
    visible: (j) => j.page.locator(`${j.sel('edu-stop-all')}:not([disabled]):not([aria-disabled=true])`).isVisible(),
  },
  {
    name: 'stop-edu-group',
    timeout: 180_000,
    action: async (j) => {
      await j.click('edu-stop-all');
      await j.confirm();
    },
    visible: (j) => j.page.locator(`${j.sel('edu-start-all')}:not([disabled]):not([aria-disabled=true])`).isVisible(),
  },
  {
    name: 'import-users-bad-csv',
    action: async (j) => {
      await j.nav('users');
      await j.click('users-import');
      await j.choose('users-import-group', 'staff');
      await j.page.setInputFiles(j.sel('users-import-file'), j.file('bad.csv', badCsv(j)));
      await j.click('users-import-submit');
    },
    // The refusal names the bad line (an error alert is expected here).
    allowError: true,
    visible: (j) => j.page.locator(j.sel('users-import-errors')).isVisible(),
  },
  {
    name: 'import-users-good-csv',
    action: async (j) => {
      await j.page.setInputFiles(j.sel('users-import-file'), j.file('good.csv', goodCsv(j)));
      await j.click('users-import-submit');
    },
    visible: (j) => j.page.locator(j.row(`${j.names.user}a`)).isVisible(),
  },
  {
    name: 'create-personal-group',
    timeout: 120_000,
    action: async (j) => {
      await j.nav('personal');
      await j.click('personal-create');
      await j.fill('personal-form-name', j.names.personal);
      await j.choose('personal-form-template', j.names.template);
      await j.click('personal-form-type-2');
      await j.click('personal-form-group-staff');
      await j.fill('personal-form-count', '1');
      await j.click('personal-form-submit');
    },
    visible: (j) => j.page.locator(j.row(j.names.personal)).isVisible(),
  },
  {
    name: 'rename-terminal',
    action: async (j) => {
      await j.nav('terminals');
      await j.see('[data-testid="row"]');
      // Rename is in the row's actions menu.
      await j.page.locator('[data-testid="row"]').first().locator('td.pf-v6-c-table__action button').click();
      await j.click('terminal-rename');
      await j.fill('terminal-form-name', j.names.terminal);
      await j.click('terminal-form-submit');
    },
    // The row is named "<name> (<MAC>)".
    visible: (j) => j.page.locator(`[data-testid="row"][data-name^="${j.names.terminal} ("]`).isVisible(),
  },
  {
    name: 'task-drawer',
    timeout: 120_000,
    action: async (j) => {
      await j.click('task-badge');
      await j.see('task-drawer');
    },
    // Watch the drawer's tasks (those this journey started) until none is still running.
    visible: async (j) => {
      const tasks = j.page.locator('[data-testid="drawer-task"]');
      const running = await tasks.filter({ has: j.page.locator('.pf-v6-c-progress:not(.pf-m-success):not(.pf-m-danger)') }).count();
      return (await tasks.count()) > 0 && running === 0;
    },
  },
  {
    name: 'operation-log',
    action: async (j) => {
      await j.click('task-badge'); // closes the drawer
      await j.nav('oplog');
    },
    // The operations of this journey are listed (the pool is the first it made).
    visible: async (j) => (await j.page.locator('main').innerText()).includes(j.names.pool),
  },
  {
    name: 'sign-out',
    action: async (j) => {
      await j.click('user-menu');
      await j.click('sign-out');
    },
    visible: '#pf-login-username-id',
  },
];
