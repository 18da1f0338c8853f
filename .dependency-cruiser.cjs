/**
 * The layout is the architecture (docs/architecture.md): each phase folder of the action imports
 * only the folders below it, and nothing anywhere imports in a circle. `npm run lint` runs this.
 *
 *   main.ts → report → act → judge → discover → plan → azure
 *
 * `report/outcomes.ts` is the vocabulary every phase above azure speaks (a VM's outcome and
 * result): they may import it, and it imports nothing of ours. Azure's plumbing knows no outcomes.
 */
const LAYERS = ['report', 'act', 'judge', 'discover', 'plan', 'azure'];
const VOCABULARY = '^src/report/outcomes[.]ts$';

/** For each layer: no import of a layer above it (the vocabulary file excepted). */
const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `src/${layer}/ may import only ${LAYERS.slice(i + 2).join(', ') || 'itself'} (and report/outcomes.ts): it sits below ${LAYERS.slice(0, i + 1).join(', ')}.`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: `^src/(${LAYERS.slice(0, i + 1).join('|')})/`,
    pathNot: VOCABULARY
  }
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move the shared piece down to the lowest module that needs it.',
      severity: 'error',
      from: { path: '^(src|agent/src)/' },
      to: { circular: true }
    },
    ...upward,
    {
      name: 'azure-knows-no-outcomes',
      comment:
        "src/azure/ is plumbing: it speaks in Azure's terms (codes, statuses, budgets), never in our outcomes.",
      severity: 'error',
      from: { path: '^src/azure/' },
      to: { path: '^src/report/' }
    },
    {
      name: 'vocabulary-imports-nothing',
      comment: 'report/outcomes.ts is imported by every phase, so it imports none of them.',
      severity: 'error',
      from: { path: VOCABULARY },
      to: { path: '^src/' }
    },
    {
      name: 'only-main-imports-main',
      comment: 'main.ts is the top of the action: nothing below imports it.',
      severity: 'error',
      from: { path: '^src/(?!index[.]ts$)' },
      to: { path: '^src/main[.]ts$' }
    },
    {
      name: 'agent-stands-alone',
      comment:
        'The agent ships without runtime dependencies: of the action it may share only the payload contract.',
      severity: 'error',
      from: { path: '^agent/src/' },
      to: {
        pathNot: '^(agent/src/|src/plan/payload[.]ts$|src/azure/resource-id[.]ts$)',
        dependencyTypesNot: ['core']
      }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] }
  }
};
