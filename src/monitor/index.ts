// The log monitor: watches Rekor v1, Rekor v2 (tlog-tiles) and RFC 6962 CT logs for
// signing events of monitored identities, and checks that the logs stay consistent.
export {
  parseMonitorConfig,
  FULCIO_EXTENSION_OIDS,
  type MonitorConfig,
  type LogTarget,
  type CertIdentity,
  type Expectation,
} from './config.js';
export { monitorOnce, textLine, jsonLine, MONITOR_EXIT, type MonitorOptions, type PassResult, type LogScanResult } from './monitor.js';
export { httpFetcher, type Fetcher } from './http.js';
export { webhookNotifier, commandNotifier, SIGNATURE_HEADER, type Notifier, type Alert } from './notify.js';
export { Metrics, serveMetrics } from './metrics.js';
export { Frontier } from './frontier.js';
export { MonitorError, type MonitorErrorCode } from './errors.js';
export type { IdentityMatch } from './match.js';
