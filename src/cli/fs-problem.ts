// The CLI's name for core's errno-in-words helper (the signing client's ambient providers use it too).
export { fsProblem } from '../core/fs-problem.js';
