// vdi-appliance first-boot setup page. Plain ES2020, no dependencies.
// Steps: 1 sign in (creating the first admin if needed), 2 read the
// hardware and fill the form, 3 run controller/init and follow its task.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const ROLES = [
    [1, 'Template system disks'],
    [2, 'Template data disks'],
    [3, 'Desktop system disks'],
    [4, 'Desktop data disks'],
  ];
  const POLL_MS = 500;
  // How long the task may be out of reach (the service can be busy while
  // the management network is being rebuilt) before we give up following it.
  const LOST_CONTACT_MS = 90000;

  const session = { token: null, refresh: null, name: null };
  const form = { nics: [], probe: null, touched: new Set() };
  let adminExists = false;

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(message, code, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
    // No answer at all, or the service is temporarily unable to answer.
    get transient() {
      return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
    }
  }

  async function call(method, path, body, opts = {}) {
    const auth = opts.auth !== false;
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && session.token) headers.Authorization = 'Bearer ' + session.token;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new ApiError('Cannot reach the service. Check that it is running and that this computer can reach the server, then try again.', -1, 0);
    }
    let env = null;
    try {
      env = JSON.parse(await res.text());
    } catch (e) {
      env = null;
    }
    if (!env || typeof env !== 'object' || !('code' in env)) {
      throw new ApiError(`The service answered HTTP ${res.status} ${res.statusText || ''} without a readable reply.`.trim(), -1, res.status);
    }
    if (env.code !== 0) {
      if (res.status === 401 && auth && session.refresh && opts.retried !== true && await refreshTokens()) {
        return call(method, path, body, { ...opts, retried: true });
      }
      throw new ApiError(env.msg || `The request failed (code ${env.code}).`, env.code, res.status);
    }
    return env.data;
  }

  async function refreshTokens() {
    try {
      const t = await call('POST', '/api/v1/refresh', { refresh_token: session.refresh }, { auth: false });
      keepTokens(t);
      return true;
    } catch (e) {
      return false;
    }
  }

  function keepTokens(t) {
    session.token = t.access_token;
    session.refresh = t.refresh_token || session.refresh;
    session.name = t.name || session.name;
  }

  // ---------------------------------------------------------------- helpers

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function show(id, on = true) {
    $(id).hidden = !on;
  }

  function setError(id, msg) {
    const e = $(id);
    e.textContent = msg || '';
    e.hidden = !msg;
  }

  function isIPv4(s) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
  }

  function ipNum(s) {
    return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  }

  function ipStr(n) {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  }

  function maskBits(mask) {
    if (!isIPv4(mask)) return null;
    const n = ipNum(mask);
    const bits = n.toString(2).padStart(32, '0');
    return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : null;
  }

  function fmtGB(gb) {
    if (typeof gb !== 'number' || !isFinite(gb)) return '—';
    if (gb >= 1000) return (gb / 1024).toFixed(2) + ' TB';
    return (gb >= 100 ? gb.toFixed(0) : gb.toFixed(1)) + ' GB';
  }

  function fmtSpeed(mbps) {
    if (!mbps || mbps <= 0) return 'unknown';
    return mbps >= 1000 ? `${mbps / 1000} Gb/s` : `${mbps} Mb/s`;
  }

  function markInvalid(ids) {
    document.querySelectorAll('[aria-invalid="true"]').forEach((e) => e.removeAttribute('aria-invalid'));
    let first = null;
    for (const id of ids) {
      const e = $(id);
      if (!e) continue;
      e.setAttribute('aria-invalid', 'true');
      if (!first) first = e;
    }
    return first;
  }

  function setStep(id, stateName) {
    const s = $(id);
    s.classList.remove('pending', 'active', 'complete');
    s.classList.add(stateName);
  }

  // ---------------------------------------------------------------- step 1

  async function loadStatus() {
    show('load-error', false);
    show('signin-loading', true);
    show('signin-form', false);
    let st;
    try {
      st = await call('GET', '/api/v1/setup/status', undefined, { auth: false });
    } catch (e) {
      show('signin-loading', false);
      $('load-error-text').textContent = 'Could not read this server\'s setup state: ' + e.message;
      show('load-error', true);
      return;
    }
    show('signin-loading', false);
    if (st && st.version) $('version').textContent = 'version ' + st.version;
    if (st && st.initialised) {
      show('already', true);
      ['step-signin', 'step-configure', 'step-init'].forEach((s) => show(s, false));
      return;
    }
    setSigninMode(!!(st && st.admin_exists));
    show('signin-form', true);
    (adminExists ? $('admin_password') : $('setup_token')).focus();
  }

  function setSigninMode(exists) {
    adminExists = exists;
    show('field-setup-token', !exists);
    show('field-password2', !exists);
    $('admin_password').autocomplete = exists ? 'current-password' : 'new-password';
    $('admin_password-help').textContent = exists ? 'The admin account\'s password.' : 'At least 8 characters.';
    $('signin-submit').textContent = exists ? 'Sign in' : 'Create the admin and sign in';
    $('signin-intro').textContent = exists
      ? 'An admin account exists already. Sign in with it to continue the setup.'
      : 'Create the admin account. You need the one-time setup token of this appliance.';
  }

  function checkSignin() {
    const token = $('setup_token').value.trim();
    const name = $('admin_name').value.trim();
    const pw = $('admin_password').value;
    const pw2 = $('admin_password2').value;
    if (!adminExists && !token) return ['setup_token', 'Enter the setup token. It is printed in the service log and stored in /var/lib/vdi-appliance/setup-token on the appliance.'];
    if (!name) return ['admin_name', 'Enter the admin name.'];
    if (!pw) return ['admin_password', 'Enter the password.'];
    if (!adminExists && pw.length < 8) return ['admin_password', 'The password needs at least 8 characters.'];
    if (!adminExists && pw !== pw2) return ['admin_password2', 'The two passwords are not the same.'];
    return null;
  }

  async function onSignin(ev) {
    ev.preventDefault();
    setError('signin-error', '');
    const bad = checkSignin();
    if (bad) {
      markInvalid([bad[0]]).focus();
      setError('signin-error', bad[1]);
      return;
    }
    markInvalid([]);
    const name = $('admin_name').value.trim();
    const password = $('admin_password').value;
    $('signin-submit').disabled = true;
    show('signin-busy', true);
    try {
      if (!adminExists) {
        try {
          await call('POST', '/api/v1/setup/admin', { setup_token: $('setup_token').value.trim(), name, password }, { auth: false });
        } catch (e) {
          if (e.code === 11006) {
            // Someone else created the admin meanwhile: sign in instead.
            setSigninMode(true);
            throw new ApiError(e.message + ' Sign in with that account instead.', e.code, e.status);
          }
          if (e.code === 11005) markInvalid(['setup_token']);
          throw e;
        }
        setSigninMode(true); // the admin exists from now on
      }
      const t = await call('POST', '/api/v1/login', { name, password }, { auth: false });
      keepTokens(t);
      session.name = t.name || name;
    } catch (e) {
      setError('signin-error', e.message);
      $('signin-submit').disabled = false;
      show('signin-busy', false);
      return;
    }
    show('signin-busy', false);
    $('signin-submit').disabled = false;
    $('admin_password').value = '';
    $('admin_password2').value = '';
    $('setup_token').value = '';
    show('signin-form', false);
    $('signed-in-name').textContent = session.name;
    show('signin-done', true);
    setStep('step-signin', 'complete');
    setStep('step-configure', 'active');
    probe();
  }

  // ---------------------------------------------------------------- step 2

  function probeTarget() {
    const h = location.hostname;
    return isIPv4(h) ? h : '127.0.0.1';
  }

  async function probe() {
    show('configure-waiting', false);
    show('probe-error', false);
    show('config-form', false);
    show('probing', true);
    let data;
    try {
      data = await call('POST', '/api/v1/node/check', { ip: probeTarget() });
    } catch (e) {
      show('probing', false);
      $('probe-error-text').textContent = 'Could not read this server\'s hardware: ' + e.message;
      show('probe-error', true);
      return;
    }
    show('probing', false);
    buildForm(data || {});
    show('config-form', true);
    $('ip').focus();
  }

  function nicLabel(n) {
    const parts = [n.ip ? n.ip : 'no address'];
    if (n.speed > 0) parts.push(fmtSpeed(n.speed));
    if (!n.stat) parts.push('link down');
    return `${n.interface} — ${parts.join(', ')}`;
  }

  function buildForm(d) {
    form.probe = d;
    form.nics = Array.isArray(d.interface_list) ? d.interface_list.filter((n) => n && n.interface) : [];
    form.touched.clear();
    $('hostname').textContent = d.hostname || 'this server';

    // NIC table
    const tb = $('nic-table').tBodies[0];
    tb.replaceChildren();
    for (const n of form.nics) {
      tb.append(el('tr', {},
        el('td', {}, el('strong', { text: n.interface }), n.bridge ? el('span', { class: 'tag', text: 'in ' + n.bridge }) : null),
        el('td', { text: n.ip ? `${n.ip} / ${n.mask || '?'}` : '—' }),
        el('td', {}, el('code', { text: n.mac || '—' })),
        el('td', { text: fmtSpeed(n.speed) }),
        el('td', {}, el('span', { class: n.stat ? 'link-up' : 'link-down', text: n.stat ? 'up' : 'down' })),
        el('td', {}, n.driver || '—', n.pci ? el('span', { class: 'sub', text: n.pci }) : null),
      ));
    }
    if (!form.nics.length) tb.append(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'No network interfaces were found.' })));

    // Management IP
    const ipSel = $('ip');
    ipSel.replaceChildren();
    const withIp = form.nics.filter((n) => n.ip);
    for (const n of withIp) ipSel.append(el('option', { value: n.ip, text: `${n.ip} — ${n.interface}` }));
    const routeIf = d.default_route && d.default_route.interface;
    const routeNic = withIp.find((n) => n.interface === routeIf);
    if (withIp.length) ipSel.value = (routeNic || withIp[0]).ip;

    // Interfaces
    for (const id of ['manage_interface', 'image_interface', 'data_interface']) {
      const s = $(id);
      s.replaceChildren();
      for (const n of form.nics) s.append(el('option', { value: n.interface, text: nicLabel(n) }));
    }
    syncInterfacesToIp();

    // Virtualisation
    const v = d.virtualization || {};
    const supported = !!v.supported;
    $('is_compute').checked = supported;
    $('is_compute').disabled = !supported;
    if (supported) {
      const bits = [];
      if (v.cpu_flag) bits.push(`CPU flag ${v.cpu_flag}`);
      if (v.kvm_device) bits.push('/dev/kvm present');
      if (v.libvirt) bits.push(v.libvirt);
      $('virt-ok').textContent = 'Hardware virtualisation is available' + (bits.length ? ': ' + bits.join(', ') + '.' : '.');
      show('virt-ok', true);
      show('virt-warning', false);
    } else {
      const ul = $('virt-missing');
      ul.replaceChildren();
      const missing = Array.isArray(v.missing) && v.missing.length ? v.missing : ['Hardware virtualisation is not available.'];
      for (const m of missing) ul.append(el('li', { text: m }));
      show('virt-ok', false);
      show('virt-warning', true);
    }

    buildStorage(Array.isArray(d.storage_list) ? d.storage_list : []);
    updateSwitchType();
    updateSubnetMode();

    const problems = [];
    if (!withIp.length) problems.push('None of this server\'s network interfaces has an IPv4 address. Give one an address and read the hardware again.');
    setError('config-error', problems.join('\n'));
    $('submit').disabled = problems.length > 0;
  }

  function buildStorage(list) {
    const tb = $('storage-table').tBodies[0];
    tb.replaceChildren();
    const usable = list.filter((s) => s && s.usable && s.path);
    for (const s of list) {
      if (!s || !s.path) continue;
      const what = [s.device, s.fs].filter(Boolean).join(', ');
      const row = el('tr', { class: s.usable ? null : 'unusable' },
        el('td', {}, el('strong', {}, el('code', { text: s.path })), what ? el('span', { class: 'sub', text: what }) : null),
        el('td', { text: s.type === 'ssd' ? 'SSD' : s.type === 'hdd' ? 'HDD' : 'unknown' }),
        el('td', { class: 'num-col', text: fmtGB(s.total_gb) }),
        el('td', { class: 'num-col', text: fmtGB(s.free_gb) }),
      );
      if (s.usable) {
        for (const [role, label] of ROLES) {
          const cb = el('input', { type: 'checkbox', class: 'role-box', 'aria-label': `${label} on ${s.path}` });
          cb.dataset.path = s.path;
          cb.dataset.role = String(role);
          // Sensible default: with a single usable place, everything goes there.
          cb.checked = usable.length === 1;
          row.append(el('td', { class: 'role-cell' }, cb));
        }
      } else {
        row.append(el('td', { colspan: 4, class: 'reason', text: 'Not usable: ' + (s.reason || 'unknown reason') }));
      }
      tb.append(row);
    }
    if (!tb.rows.length) tb.append(el('tr', {}, el('td', { colspan: 8, class: 'empty', text: 'No storage was found.' })));
  }

  function nicOf(ip) {
    return form.nics.find((n) => n.ip === ip);
  }

  function syncInterfacesToIp() {
    const nic = nicOf($('ip').value);
    if (nic) $('manage_interface').value = nic.interface;
    else if (form.nics.length && !$('manage_interface').value) $('manage_interface').value = form.nics[0].interface;
    followManage();
  }

  // Image and data follow the management interface until changed by hand.
  function followManage() {
    const m = $('manage_interface').value;
    for (const id of ['image_interface', 'data_interface']) {
      if (!form.touched.has(id)) $(id).value = m;
    }
    describeDerive();
  }

  function updateSwitchType() {
    const vlan = $('switch_type').value === 'vlan';
    show('field-vlan', vlan);
    // The service derives the subnet only for flat switches.
    $('subnet_derive').disabled = vlan;
    if (vlan && $('subnet_derive').checked) {
      $('subnet_enter').checked = true;
      updateSubnetMode();
    }
    describeDerive();
  }

  function describeDerive() {
    const help = $('subnet_derive-help');
    if ($('switch_type').value === 'vlan') {
      help.textContent = 'Not possible with a VLAN switch: enter the subnet of that VLAN.';
      return;
    }
    const nic = form.nics.find((n) => n.interface === $('data_interface').value);
    if (nic && nic.ip) {
      help.textContent = `Uses the network of ${nic.interface} (${nic.ip} / ${nic.mask || '?'}) and its gateway; desktops get addresses in it.`;
    } else {
      help.textContent = 'The data interface has no address, so the subnet cannot be derived: enter it.';
    }
  }

  function updateSubnetMode() {
    const enter = $('subnet_enter').checked;
    show('subnet-fields', enter);
    if (enter) prefillSubnet();
  }

  // Fill empty subnet fields with guesses from the data NIC, as a start.
  function prefillSubnet() {
    // A VLAN's subnet has nothing to do with the data NIC's own address.
    if ($('switch_type').value === 'vlan') return;
    const nic = form.nics.find((n) => n.interface === $('data_interface').value);
    if (!nic || !nic.ip || !nic.mask) return;
    const bits = maskBits(nic.mask);
    if (bits === null || bits > 30) return;
    const net = Math.floor(ipNum(nic.ip) / 2 ** (32 - bits)) * 2 ** (32 - bits);
    const size = 2 ** (32 - bits);
    const route = form.probe && form.probe.default_route;
    const gw = route && route.gateway && route.interface === nic.interface ? route.gateway : ipStr(net + 1);
    const guess = {
      subnet_netmask: nic.mask,
      subnet_gateway: gw,
      subnet_dns1: gw,
    };
    if (size >= 256) {
      guess.subnet_start_ip = ipStr(net + Math.floor(size / 2));
      guess.subnet_end_ip = ipStr(net + size - 2);
    }
    for (const [id, v] of Object.entries(guess)) if (!$(id).value) $(id).value = v;
  }

  function checkedRoles() {
    const storages = {};
    for (const cb of document.querySelectorAll('input.role-box')) {
      if (!cb.checked) continue;
      (storages[cb.dataset.path] = storages[cb.dataset.path] || []).push(Number(cb.dataset.role));
    }
    return storages;
  }

  // Returns [body, null] or [null, [fieldIds, message]].
  function buildBody() {
    const v = (id) => $(id).value.trim();
    const bad = (ids, msg) => [null, [ids, msg]];
    if (!v('ip')) return bad(['ip'], 'Choose the management IP.');
    if (!v('manage_interface')) return bad(['manage_interface'], 'Choose the management interface.');
    if (!v('switch_name')) return bad(['switch_name'], 'Enter a name for the virtual switch.');
    if (!v('network_name')) return bad(['network_name'], 'Enter a name for the network.');
    const vlan = v('switch_type') === 'vlan';
    let vlanId;
    if (vlan) {
      vlanId = Number(v('vlan_id'));
      if (!v('vlan_id') || !Number.isInteger(vlanId) || vlanId < 1 || vlanId > 4094) {
        return bad(['vlan_id'], 'Enter a VLAN id from 1 to 4094.');
      }
    }

    const picked = checkedRoles();
    const covered = new Set(Object.values(picked).flat());
    const missing = ROLES.filter(([r]) => !covered.has(r));
    if (missing.length) {
      const names = missing.map(([r, l]) => `${l} (role ${r})`).join(', ');
      return bad([], `Choose where to keep: ${names}. Tick it on at least one storage path.`);
    }
    const storages = {};
    for (const [path, roles] of Object.entries(picked)) storages[path] = roles.sort((a, b) => a - b).join(',');

    const body = {
      async: true,
      ip: v('ip'),
      manage_interface: v('manage_interface'),
      image_interface: v('image_interface') || v('manage_interface'),
      data_interface: v('data_interface') || v('manage_interface'),
      network_name: v('network_name'),
      switch_name: v('switch_name'),
      switch_type: vlan ? 'vlan' : 'flat',
      storages,
      is_compute: $('is_compute').checked,
    };
    if (vlan) body.vlan_id = vlanId;

    if ($('subnet_enter').checked) {
      const f = {
        start_ip: ['subnet_start_ip', 'the first address'],
        end_ip: ['subnet_end_ip', 'the last address'],
        netmask: ['subnet_netmask', 'the netmask'],
        gateway: ['subnet_gateway', 'the gateway'],
        dns1: ['subnet_dns1', 'the DNS server'],
      };
      const sub = { name: body.network_name + '-subnet' };
      for (const [k, [id, what]] of Object.entries(f)) {
        if (!isIPv4(v(id))) return bad([id], `Enter ${what} of the subnet as an IPv4 address such as 192.168.10.1.`);
        sub[k] = v(id);
      }
      if (maskBits(sub.netmask) === null) return bad(['subnet_netmask'], 'The netmask is not a valid mask (such as 255.255.255.0).');
      if (ipNum(sub.start_ip) > ipNum(sub.end_ip)) return bad(['subnet_start_ip', 'subnet_end_ip'], 'The first address comes after the last one.');
      if (v('subnet_dns2')) {
        if (!isIPv4(v('subnet_dns2'))) return bad(['subnet_dns2'], 'The second DNS server is not an IPv4 address.');
        sub.dns2 = v('subnet_dns2');
      }
      body.subnet_info = sub;
    } else if (vlan) {
      return bad(['subnet_enter'], 'With a VLAN switch, enter the subnet.');
    }
    return [body, null];
  }

  // Field names the service puts in `backticks` in its messages → our ids.
  function fieldsInMessage(msg) {
    const ids = [];
    for (const m of String(msg).matchAll(/`([^`]+)`/g)) {
      let name = m[1];
      if (name.startsWith('subnet_info.')) name = 'subnet_' + name.slice('subnet_info.'.length);
      if (name === 'subnet_name') continue;
      if ($(name) && $(name).matches('input, select')) ids.push(name);
    }
    for (const id of ['ip', 'manage_interface', 'image_interface', 'data_interface', 'switch_name', 'network_name', 'vlan_id']) {
      if (!ids.length && new RegExp(`\\b${id}\\b`).test(msg) && $(id)) ids.push(id);
    }
    return ids;
  }

  function lockForm(locked) {
    $('config-fields').disabled = locked;
    show('submit-busy', false);
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    setError('config-error', '');
    const [body, problem] = buildBody();
    if (problem) {
      const first = markInvalid(problem[0]);
      setError('config-error', problem[1]);
      if (first) first.focus();
      else $('storage-table').scrollIntoView({ block: 'center' });
      return;
    }
    markInvalid([]);
    lockForm(true);
    show('submit-busy', true);
    show('failed', false);
    show('done', false);
    let taskId;
    try {
      const data = await call('POST', '/api/v1/controller/init', body);
      taskId = data && data.task_id;
      if (!taskId) throw new ApiError('The service did not answer with a task id.', -1, 200);
    } catch (e) {
      lockForm(false);
      const first = markInvalid(fieldsInMessage(e.message));
      setError('config-error', e.message);
      if (first) first.focus();
      return;
    }
    show('submit-busy', false);
    follow(taskId);
  }

  // ---------------------------------------------------------------- step 3

  const STATE_TEXT = {
    queued: 'Queued',
    running: 'Running',
    succeeded: 'Finished',
    failed: 'Failed',
    cancelled: 'Cancelled',
  };

  function renderTask(t) {
    const pct = Math.max(0, Math.min(100, Number(t.percent) || 0));
    $('task').classList.toggle('failed', t.state === 'failed' || t.state === 'cancelled');
    $('progress').value = t.state === 'succeeded' ? 100 : pct;
    $('percent').textContent = `${t.state === 'succeeded' ? 100 : Math.round(pct)} %`;
    $('task-state').textContent = STATE_TEXT[t.state] || String(t.state || '…');
    const log = $('task-log');
    const text = Array.isArray(t.log) ? t.log.join('\n') : '';
    if (log.textContent !== text) {
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
      log.textContent = text;
      if (atBottom) log.scrollTop = log.scrollHeight;
    }
  }

  async function follow(taskId) {
    setStep('step-configure', 'complete');
    setStep('step-init', 'active');
    show('init-waiting', false);
    show('task', true);
    $('task').classList.remove('failed');
    show('task-note', false);
    $('task-log').textContent = '';
    $('progress').value = 0;
    $('percent').textContent = '0 %';
    $('task-state').textContent = 'Queued';
    $('step-init').scrollIntoView({ behavior: 'smooth', block: 'start' });

    let lostSince = 0;
    for (;;) {
      let t;
      try {
        t = await call('GET', '/api/v1/task/' + encodeURIComponent(taskId));
      } catch (e) {
        if (e.transient) {
          lostSince = lostSince || Date.now();
          if (Date.now() - lostSince < LOST_CONTACT_MS) {
            $('task-note').textContent = 'Lost contact with the service for a moment (the network may be being reconfigured); still trying…';
            show('task-note', true);
            await sleep(POLL_MS * 2);
            continue;
          }
        }
        lostTask(taskId, e.message);
        return;
      }
      lostSince = 0;
      show('task-note', false);
      if (!t || typeof t !== 'object') {
        await sleep(POLL_MS);
        continue;
      }
      renderTask(t);
      if (t.state === 'succeeded') {
        succeeded(t);
        return;
      }
      if (t.state === 'failed' || t.state === 'cancelled') {
        failed(t);
        return;
      }
      await sleep(POLL_MS);
    }
  }

  function succeeded(t) {
    setStep('step-init', 'complete');
    // The form has done its job: keep a one-line summary of what was sent.
    const v = (id) => $(id).value;
    const vlan = v('switch_type') === 'vlan' ? ` (VLAN ${v('vlan_id')})` : '';
    const storages = Object.entries(checkedRoles()).map(([p, r]) => `${p} (${r.join(',')})`).join(', ');
    $('configure-summary').textContent =
      `Management IP ${v('ip')} on ${v('manage_interface')}; switch “${v('switch_name')}”, ${v('switch_type')}${vlan}, ` +
      `uplink ${v('data_interface')}; network “${v('network_name')}”; storage ${storages}; ` +
      ($('is_compute').checked ? 'runs desktops too.' : 'controller only.');
    show('config-form', false);
    show('configure-summary', true);
    show('lead', false);
    const r = t.result && typeof t.result === 'object' ? t.result : {};
    const dl = $('result');
    dl.replaceChildren();
    const labels = { bridge: 'Bridge', network_uuid: 'Network UUID', switch_uuid: 'Switch UUID', node_uuid: 'Node UUID', subnet_uuid: 'Subnet UUID', pool_uuid: 'Pool UUID', ip: 'Management IP' };
    const keys = ['bridge', 'network_uuid', ...Object.keys(r).filter((k) => k !== 'bridge' && k !== 'network_uuid')];
    for (const k of keys) {
      const val = r[k];
      if (val === undefined || val === null || typeof val === 'object') {
        if (k === 'bridge' || k === 'network_uuid') dl.append(el('dt', { text: labels[k] }), el('dd', { text: '—' }));
        continue;
      }
      dl.append(el('dt', { text: labels[k] || k.replace(/_/g, ' ') }), el('dd', { text: String(val) }));
    }
    const warnings = Array.isArray(r.warnings) ? r.warnings.filter(Boolean) : [];
    const ul = $('result-warnings');
    ul.replaceChildren(...warnings.map((w) => el('li', { text: String(w) })));
    show('result-warnings-box', warnings.length > 0);
    show('done', true);
    $('done').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    $('to-console').focus({ preventScroll: true });
  }

  function failed(t) {
    setStep('step-init', 'active');
    setStep('step-configure', 'active');
    $('error').textContent = t.error || (t.state === 'cancelled' ? 'The task was cancelled.' : 'The task failed without saying why.');
    $('failed-undone').textContent = 'Every change was undone, so the server is as it was before. Correct the settings in step 2 and press “Initialise this server” again.';
    show('failed', true);
    lockForm(false);
    const first = markInvalid(fieldsInMessage(t.error || ''));
    setError('config-error', 'The last attempt failed: ' + $('error').textContent);
    if (first) first.focus({ preventScroll: true });
  }

  function lostTask(taskId, msg) {
    setStep('step-configure', 'active');
    $('error').textContent = `Could not follow task ${taskId}: ${msg}`;
    $('failed-undone').textContent = 'The task may still be running. Reload this page in a minute: if the server is initialised you will see the console, otherwise try again.';
    show('failed', true);
    lockForm(false);
  }

  // ---------------------------------------------------------------- wiring

  function clearInvalidOnInput(e) {
    if (e.target.getAttribute && e.target.getAttribute('aria-invalid') === 'true') e.target.removeAttribute('aria-invalid');
  }

  function init() {
    $('signin-form').addEventListener('submit', onSignin);
    $('signin-form').addEventListener('input', clearInvalidOnInput);
    $('load-retry').addEventListener('click', loadStatus);
    $('probe-retry').addEventListener('click', probe);
    $('config-form').addEventListener('submit', onSubmit);
    $('config-form').addEventListener('input', clearInvalidOnInput);
    $('config-form').addEventListener('change', clearInvalidOnInput);
    $('ip').addEventListener('change', syncInterfacesToIp);
    $('manage_interface').addEventListener('change', followManage);
    for (const id of ['image_interface', 'data_interface']) {
      $(id).addEventListener('change', () => {
        form.touched.add(id);
        describeDerive();
      });
    }
    $('switch_type').addEventListener('change', updateSwitchType);
    $('subnet_derive').addEventListener('change', updateSubnetMode);
    $('subnet_enter').addEventListener('change', updateSubnetMode);
    $('storage-table').addEventListener('change', (e) => {
      if (e.target.classList.contains('role-box') && !$('config-error').hidden && /Choose where to keep/.test($('config-error').textContent)) {
        setError('config-error', '');
      }
    });
    loadStatus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
