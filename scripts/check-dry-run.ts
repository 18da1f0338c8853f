/**
 * CI's action job: after `uses: ./` ran in dry-run against the emulator's example fleet, check
 * that it found the evicted VM, started nothing, and that the emulator agrees nothing started.
 * Reads the step's outputs from STARTED and RESULT, and the emulator from EMULATOR_URL.
 */
interface Result {
  dryRun: boolean;
  vms: { name: string; outcome: string; detail: string }[];
}

const problems: string[] = [];
const started = JSON.parse(process.env.STARTED || 'null') as unknown;
const result = JSON.parse(process.env.RESULT || 'null') as Result | null;
if (!Array.isArray(started) || started.length)
  problems.push(`output started should be [], is ${process.env.STARTED}`);
if (!result) problems.push('output result is missing');
else {
  if (!result.dryRun) problems.push('result.dryRun should be true');
  const outcome = (name: string) => result.vms.find(v => v.name === name);
  if (outcome('worker-1')?.outcome !== 'skipped' || !/dry run/.test(outcome('worker-1')?.detail ?? ''))
    problems.push(`worker-1 should be skipped as a dry run, is ${JSON.stringify(outcome('worker-1'))}`);
  if (outcome('dev-box')?.outcome !== 'user-stopped')
    problems.push(`dev-box should be user-stopped, is ${JSON.stringify(outcome('dev-box'))}`);
}
const state = (await (await fetch(`${process.env.EMULATOR_URL}/_emulator/state`)).json()) as {
  vms: { name: string; powerState: string; startsAccepted: number }[];
};
for (const vm of state.vms)
  if (vm.startsAccepted) problems.push(`the emulator accepted ${vm.startsAccepted} start(s) of ${vm.name}`);

for (const problem of problems) console.log(`::error::${problem}`);
if (problems.length) process.exit(1);
console.log(
  `Dry run as expected: ${result!.vms.map(v => `${v.name} ${v.outcome}`).join(', ')}; nothing started.`
);
