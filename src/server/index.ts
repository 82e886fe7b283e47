export * from './config.js';
export * from './keys.js';
export { startServer, devIdpEnabled, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, type ServeOptions, type RunningServer } from './server.js';
export type { ComposedServices, ComposeContext } from './compose.js';
