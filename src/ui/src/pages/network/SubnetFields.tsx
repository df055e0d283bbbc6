// The fields of a subnet (an address pool): name, range, netmask, gateway,
// DNS; shared by the subnet form and a network's first subnet.
import { FormGroup, TextInput } from '@patternfly/react-core';
import { useTranslation } from 'react-i18next';
import { useFieldErrors } from '../../components/errors';

export interface SubnetValues {
  name: string;
  start_ip: string;
  end_ip: string;
  netmask: string;
  gateway: string;
  dns1: string;
  dns2: string;
}
export const emptySubnet: SubnetValues = { name: '', start_ip: '', end_ip: '', netmask: '255.255.255.0', gateway: '', dns1: '', dns2: '' };

const KEYS: (keyof SubnetValues)[] = ['name', 'start_ip', 'end_ip', 'netmask', 'gateway', 'dns1', 'dns2'];

export function SubnetFields(p: {
  values: SubnetValues;
  onChange: (v: SubnetValues) => void;
  fe: ReturnType<typeof useFieldErrors>;
  /** How the API names these fields in messages (`subnet_info.` for network/create). */
  prefix: string;
  idPrefix: string;
  nameField?: string;
}) {
  const { t } = useTranslation('network');
  return (
    <>
      {KEYS.map((k) => {
        const names = [p.prefix + k, k, 'value.' + k, ...(k === 'name' && p.nameField ? [p.nameField] : [])];
        const required = k !== 'dns2';
        return (
          <FormGroup key={k} label={t(`subnets.${k}`)} fieldId={`${p.idPrefix}-${k}`} isRequired={required}>
            <TextInput
              id={`${p.idPrefix}-${k}`}
              data-testid={`${p.idPrefix}-${k}`}
              value={p.values[k]}
              onChange={(_e, v) => p.onChange({ ...p.values, [k]: v })}
              validated={p.fe.v(names)}
            />
            {p.fe.help(names)}
          </FormGroup>
        );
      })}
    </>
  );
}
