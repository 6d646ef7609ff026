// Worker entry for worker-pool.test.ts: register tsx (worker threads do not inherit the loader), then serve.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker-main.ts');
