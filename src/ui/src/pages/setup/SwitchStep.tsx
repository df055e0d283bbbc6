// The wizard's default switch step: switch and network names, flat or VLAN,
// and the default subnet (derived from the data interface, or entered).
import { Form, FormGroup, FormSelect, FormSelectOption, Grid, GridItem, Radio, TextInput } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { Help, StepProps } from './AccountSteps';
import { Form as F, nicsOf, Probe, subnetGuess } from './model';

const SUBNET = ['start_ip', 'end_ip', 'netmask', 'gateway', 'dns1', 'dns2'] as const;

export function SwitchStep({ f, set, fe, probe }: StepProps & { probe: Probe }) {
  const { t } = useTranslation('setup');
  const vlan = f.switch_type === 'vlan';
  const enter = vlan || f.subnetMode === 'enter';
  // Fill empty subnet fields with guesses from the data interface, as a start.
  const prefill = (g: F): F['subnet'] => {
    const guess = subnetGuess(g, probe);
    const s = { ...g.subnet };
    for (const [k, val] of Object.entries(guess)) if (!s[k as keyof F['subnet']] && val) s[k as keyof F['subnet']] = val;
    return s;
  };
  const dataNic = nicsOf(probe).find((n) => n.interface === f.data_interface);
  const deriveHelp = vlan
    ? t('switch.deriveVlan')
    : dataNic?.ip
      ? t('switch.deriveHelp', { nic: dataNic.interface, ip: dataNic.ip, mask: dataNic.mask || '?' })
      : t('switch.deriveNoIp');
  const text = (id: 'switch_name' | 'network_name', testid: string) => (
    <FormGroup label={t(`switch.${id}`)} fieldId={id} isRequired>
      <TextInput id={id} data-testid={testid} value={f[id]} validated={fe.v(id)} onChange={(_e, v) => set({ [id]: v })} spellCheck={false} />
      {fe.help(id) || <Help text={t(`switch.${id}Help`)} />}
    </FormGroup>
  );
  return (
    <Form onSubmit={(e) => e.preventDefault()} data-testid="setup-switch-form">
      <Grid hasGutter md={6}>
        <GridItem>{text('switch_name', 'setup-switch-name')}</GridItem>
        <GridItem>{text('network_name', 'setup-network-name')}</GridItem>
        <GridItem>
          <FormGroup label={t('switch.type')} fieldId="switch_type" isRequired>
            <FormSelect
              id="switch_type"
              data-testid="setup-switch-type"
              value={f.switch_type}
              validated={fe.v('switch_type')}
              onChange={(_e, v) => {
                const st = v === 'vlan' ? 'vlan' : 'flat';
                set({ switch_type: st, subnetMode: st === 'vlan' ? 'enter' : f.subnetMode });
              }}
            >
              <FormSelectOption value="flat" label={t('switch.flat')} />
              <FormSelectOption value="vlan" label={t('switch.vlan')} />
            </FormSelect>
            {fe.help('switch_type') || <Help text={t('switch.typeHelp')} />}
          </FormGroup>
        </GridItem>
        {vlan && (
          <GridItem>
            <FormGroup label={t('switch.vlan_id')} fieldId="vlan_id" isRequired>
              <TextInput id="vlan_id" data-testid="setup-vlan-id" type="number" min={1} max={4094} value={f.vlan_id} validated={fe.v('vlan_id')} onChange={(_e, v) => set({ vlan_id: v })} />
              {fe.help('vlan_id') || <Help text={t('switch.vlanHelp')} />}
            </FormGroup>
          </GridItem>
        )}
      </Grid>
      <FormGroup label={t('switch.subnet')} fieldId="subnet_derive" role="radiogroup" isStack>
        <Radio
          id="subnet_derive"
          name="subnet_mode"
          data-testid="setup-subnet-derive"
          label={t('switch.derive')}
          description={deriveHelp}
          isChecked={!enter}
          isDisabled={vlan}
          onChange={() => set({ subnetMode: 'derive' })}
        />
        <Radio
          id="subnet_enter"
          name="subnet_mode"
          data-testid="setup-subnet-enter"
          label={t('switch.enter')}
          isChecked={enter}
          onChange={() => set({ subnetMode: 'enter', subnet: prefill(f) })}
        />
      </FormGroup>
      {enter && (
        <Grid hasGutter md={4}>
          {SUBNET.map((k) => (
            <GridItem key={k}>
              <FormGroup label={t(`subnet.${k}`)} fieldId={`subnet_${k}`} isRequired={k !== 'dns2'}>
                <TextInput
                  id={`subnet_${k}`}
                  data-testid={`setup-subnet-${k.replace('_', '-')}`}
                  value={f.subnet[k]}
                  validated={fe.v(`subnet_info.${k}`)}
                  onChange={(_e, v) => set({ subnet: { ...f.subnet, [k]: v } })}
                  inputMode="decimal"
                  spellCheck={false}
                  placeholder={k === 'dns2' ? undefined : t(`subnet.${k}Eg`)}
                />
                {fe.help(`subnet_info.${k}`)}
              </FormGroup>
            </GridItem>
          ))}
        </Grid>
      )}
    </Form>
  );
}
