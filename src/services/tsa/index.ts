export { tsaService, TSA_MAX_REQUEST_BYTES, type TsaServiceOptions } from './plugin.js';
