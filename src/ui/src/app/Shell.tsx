// The console around every page: masthead (tasks badge, language, the
// admin's menu with sign out and sign out everywhere), the navigation, the
// tasks drawer, and the routed page.
import {
  Brand,
  Drawer,
  DrawerContent,
  DrawerContentBody,
  Dropdown,
  DropdownItem,
  DropdownList,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadLogo,
  MastheadMain,
  MastheadToggle,
  MenuToggle,
  Nav,
  NavGroup,
  NavItem,
  NotificationBadge,
  NotificationBadgeVariant,
  Page,
  PageSidebar,
  PageSidebarBody,
  PageToggleButton,
  SkipToContent,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from '@patternfly/react-core';
import BarsIcon from '@patternfly/react-icons/dist/esm/icons/bars-icon';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, getSession, setSession } from '../api';
import { TaskDrawerPanel } from '../components/TaskDrawer';
import { useTasks } from '../components/tasks';
import { LangSwitch } from './LangSwitch';
import { GROUPS, PAGES } from './pages';
import { href, useRoute } from './router';

export function Shell() {
  const { t } = useTranslation('shell');
  const route = useRoute();
  const tasks = useTasks();
  const [userOpen, setUserOpen] = useState(false);
  const page = PAGES.find((p) => p.path === route[0]) || PAGES[0];
  const Current = page.component;
  const session = getSession();

  const signOut = async (all: boolean) => {
    try {
      await call('POST', '/api/v1/logout', all ? { all: true } : {});
    } finally {
      setSession(null);
      window.location.hash = '';
    }
  };

  const busy = tasks.running.length;
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton variant="plain" aria-label={t('navToggle')}>
            <BarsIcon />
          </PageToggleButton>
        </MastheadToggle>
        <MastheadBrand>
          <MastheadLogo href={href('dashboard')}>
            <Brand src={LOGO} alt={t('brand')} heights={{ default: '36px' }} />
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight isStatic>
          <ToolbarContent>
            <ToolbarGroup variant="action-group-plain" align={{ default: 'alignEnd' }}>
              <ToolbarItem>
                <NotificationBadge
                  variant={busy ? NotificationBadgeVariant.unread : NotificationBadgeVariant.read}
                  count={busy}
                  onClick={() => tasks.setDrawerOpen(!tasks.drawerOpen)}
                  aria-label={t('tasks.badge', { count: busy })}
                  isExpanded={tasks.drawerOpen}
                  data-testid="task-badge"
                />
              </ToolbarItem>
              <ToolbarItem>
                <LangSwitch />
              </ToolbarItem>
              <ToolbarItem>
                <Dropdown
                  isOpen={userOpen}
                  onOpenChange={setUserOpen}
                  popperProps={{ position: 'right' }}
                  toggle={(ref) => (
                    <MenuToggle ref={ref} variant="plainText" onClick={() => setUserOpen(!userOpen)} isExpanded={userOpen} data-testid="user-menu">
                      {session?.name}
                    </MenuToggle>
                  )}
                >
                  <DropdownList>
                    <DropdownItem key="out" onClick={() => void signOut(false)} data-testid="sign-out">
                      {t('signOut')}
                    </DropdownItem>
                    <DropdownItem key="all" onClick={() => void signOut(true)} data-testid="sign-out-all">
                      {t('signOutAll')}
                    </DropdownItem>
                  </DropdownList>
                </Dropdown>
              </ToolbarItem>
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );

  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label={t('navLabel')}>
          {GROUPS.map((g) => (
            <NavGroup key={g} title={t(`group.${g}`)}>
              {PAGES.filter((p) => p.group === g).map((p) => (
                <NavItem key={p.path} to={href(p.path)} isActive={p === page} data-testid={`nav-${p.path}`}>
                  {t(p.label)}
                </NavItem>
              ))}
            </NavGroup>
          ))}
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );

  return (
    <Page
      masthead={masthead}
      sidebar={sidebar}
      isManagedSidebar
      skipToContent={<SkipToContent href="#main">{t('skip')}</SkipToContent>}
      mainContainerId="main"
    >
      <Drawer isExpanded={tasks.drawerOpen} isInline={false}>
        <DrawerContent panelContent={<TaskDrawerPanel />}>
          <DrawerContentBody>
            <Current key={page.path} rest={route.slice(1)} />
          </DrawerContentBody>
        </DrawerContent>
      </Drawer>
    </Page>
  );
}

// The product's mark: a screen with a desktop on it, as an inline SVG.
const LOGO =
  'data:image/svg+xml;utf8,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="180" height="36" viewBox="0 0 180 36"><rect x="2" y="4" width="30" height="22" rx="3" fill="none" stroke="#151515" stroke-width="3"/><rect x="12" y="28" width="10" height="4" fill="#151515"/><text x="42" y="25" font-family="RedHatDisplay, sans-serif" font-size="18" font-weight="600" fill="#151515">vdi-appliance</text></svg>',
  );
