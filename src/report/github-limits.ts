/**
 * GitHub's size limits on what a step hands back: its job summary and its outputs. The action keeps
 * under them, and the emulated runner enforces them, from this one definition.
 */

/**
 * A step's job summary is refused whole, never truncated, above 1 MiB: "each step is restricted to
 * a maximum size of 1MiB … If more than 1MiB of content is added for a step, then the upload for the
 * step will fail and an error annotation will be created" (docs.github.com, Workflow commands for
 * GitHub Actions › Adding a job summary). The runner compares the file's size in bytes with
 * `1024 * 1024` (actions/runner, src/Runner.Worker/FileCommandManager.cs, CreateStepSummaryCommand)
 * and says "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got Nk".
 */
export const STEP_SUMMARY_MAX_BYTES = 1024 * 1024;

/**
 * "Outputs can be a maximum of 1 MB per job. The total of all outputs in a workflow run can be a
 * maximum of 50 MB. Size is approximated based on UTF-16 encoding." (docs.github.com, Passing
 * information between jobs; data/reusables/actions/output-limitations.md). Read as the smaller of
 * the two meanings of "MB", 10^6 bytes, counted as UTF-16: every output a job sets, together.
 */
export const JOB_OUTPUTS_MAX_UTF16_BYTES = 1_000_000;

/**
 * "10 warning annotations, 10 error annotations, and 10 notice annotations per step; 50
 * annotations per job" (actions/toolkit, docs/problem-matchers.md › Limitations); more are dropped
 * without a word. The action keeps to 10 in all, so none of its own is ever dropped.
 */
export const ANNOTATIONS_PER_STEP = 10;

/** The size GitHub counts for an output: UTF-16 code units, two bytes each. */
export function utf16Bytes(text: string): number {
  return text.length * 2;
}
