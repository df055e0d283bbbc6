// The language switch (login page and masthead): English or Simplified Chinese.
import { MenuToggle, Select, SelectList, SelectOption } from '@patternfly/react-core';
import GlobeIcon from '@patternfly/react-icons/dist/esm/icons/globe-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Lang, LANGS, setLang } from '../i18n';

export function LangSwitch() {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState(false);
  const current = LANGS.find((l) => l.code === i18n.language) || LANGS[0];
  return (
    <Select
      isOpen={open}
      selected={current.code}
      onSelect={(_e, v) => {
        void setLang(v as Lang);
        setOpen(false);
      }}
      onOpenChange={setOpen}
      toggle={(ref) => (
        <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} icon={<GlobeIcon />} aria-label={t('shell:language')} data-testid="lang-switch">
          {current.label}
        </MenuToggle>
      )}
    >
      <SelectList>
        {LANGS.map((l) => (
          <SelectOption key={l.code} value={l.code} data-testid={`lang-${l.code}`} lang={l.code}>
            {l.label}
          </SelectOption>
        ))}
      </SelectList>
    </Select>
  );
}
