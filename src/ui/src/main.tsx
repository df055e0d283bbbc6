// The console's entry: PatternFly's styles, the catalogues, the app.
import '@patternfly/react-core/dist/styles/base.css';
import 'uplot/dist/uPlot.min.css';
import './app/app.css';
import './i18n';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
