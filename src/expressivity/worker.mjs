// Entry of a sweep worker thread. Worker threads do not inherit the TypeScript loader of the process that
// starts them (under `npx qpeft` or vitest), so this plain-JS entry registers tsx before loading the code.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
