// The console's entry: PatternFly's styles, the catalogues, the app.
import '@patternfly/react-core/dist/styles/base.css';
import 'uplot/dist/uPlot.min.css';
import './app/app.css';
import { i18nReady } from './i18n';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';

const root = createRoot(document.getElementById('root')!);
i18nReady.then(
  () =>
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    ),
  // Without words there is no console: say so in both languages.
  () => {
    document.getElementById('root')!.textContent = 'The console could not load its language files; reload the page. 控制台无法加载语言文件，请刷新页面。';
  },
);
