// A task's result as a description list: fields by name, nested objects as
// nested lists, lists of plain values joined; never raw JSON.
import { DescriptionList, DescriptionListDescription, DescriptionListGroup, DescriptionListTerm, List, ListItem } from '@patternfly/react-core';
import { ReactNode } from 'react';
import { show } from '../../components/ListView';

function value(v: unknown): ReactNode {
  if (Array.isArray(v)) {
    if (v.length === 0) return '—';
    if (v.every((x) => x === null || typeof x !== 'object')) return v.map((x) => show(x)).join(', ');
    return (
      <List isPlain>
        {v.map((x, i) => (
          <ListItem key={i}>{value(x)}</ListItem>
        ))}
      </List>
    );
  }
  if (v && typeof v === 'object') return <Values data={v as Record<string, unknown>} />;
  return show(v);
}

export function Values({ data }: { data: Record<string, unknown> }) {
  return (
    <DescriptionList isCompact isHorizontal horizontalTermWidthModifier={{ default: '14ch' }}>
      {Object.entries(data).map(([k, v]) => (
        <DescriptionListGroup key={k}>
          <DescriptionListTerm>{k}</DescriptionListTerm>
          <DescriptionListDescription>{value(v)}</DescriptionListDescription>
        </DescriptionListGroup>
      ))}
    </DescriptionList>
  );
}

/** A result of any shape: an object's fields, else the plain value. */
export function ResultView({ result }: { result: unknown }) {
  if (result && typeof result === 'object' && !Array.isArray(result)) return <Values data={result as Record<string, unknown>} />;
  return <>{value(result)}</>;
}
