// Entry of a shot-simulation worker thread. Worker threads do not inherit the TypeScript loader of the
// process that starts them (under `npx qpeft` or vitest), so this plain-JS entry registers tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
