export { explorerService, defaultAppDir, type ExplorerServiceOptions } from './plugin.js';
export {
  parseQuery,
  searchLogs,
  MAX_PAGE,
  MAX_OFFSET,
  type ExplorerLog,
  type EntryPointer,
  type ParsedQuery,
  type QueryKind,
} from './search.js';
export { ActivityCache, identityOfBody, ACTIVITY_WINDOW, type Activity, type RecentEntry } from './activity.js';
