/**
 * The run report: one self-contained HTML page (inline CSS, plots as data: URIs, no external
 * URL, so it works offline and from an email attachment) that says what happened, what was
 * inferred about the data, how good the model is against its gate, how long each step took,
 * what it cost, where it came from and, on failure, why.
 *
 * Pure: the handler fetches the job outputs and passes their bytes; `reportInputs` parses them
 * (an unreadable file becomes a sentence on the page, never a failed report) and `renderReport`
 * draws the page. Every value from a run or a file is escaped: dataset and column names are
 * user input.
 */
export {
  MODEL_ARCHIVE_LIMIT_BYTES,
  Profile,
  reportInputs,
  type TrainingHistory,
} from "./inputs.js";
export { renderReport } from "./render.js";
