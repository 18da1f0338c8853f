/**
 * Resource Graph queries, evaluated for real over the emulated tables. Parsing is Microsoft's own
 * (Kusto.Language via @kusto/language-service-next); evaluation covers the subset the action uses
 * — `where` (== != =~ !~ in in~ !in~ contains and or), `extend`, `project`, `order by`/`sort by`,
 * `take`/`limit`, `join kind=inner|leftouter`, tostring/todouble/tolower/toupper/isempty/isnotempty,
 * split, hash(x, mod), property paths and `tags['x']`. Anything else is refused as ARG refuses a bad
 * query, never ignored.
 *
 * Resource Graph's join limit is enforced when a query is compiled (Microsoft Learn, "Understanding
 * the Azure Resource Graph query language": "Limit of 3 `join` in a single query, 1 of which may be a
 * cross-table `join`. If all cross-table `join` use is between _Resource_ and _ResourceContainers_,
 * then 3 cross-table `join` are allowed."). A join is cross-table when its right side reads another
 * table than its left side does.
 *
 * A query is parsed and compiled into closures once per text; the closures then run over the tables
 * of each request, so every page is still evaluated against the data as it is at that moment (ARG
 * re-runs the query per page). A construct we do not support compiles to a closure that throws
 * when it is reached: a query is refused exactly when, and with the error, it was refused before.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any -- the Bridge.NET syntax tree is untyped */
type Node = any;
type Row = Record<string, unknown>;
export type Tables = Record<string, Row[]>;

let kusto: any;
function parser(): any {
  if (!kusto) {
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    kusto = (globalThis as any).Kusto;
  }
  return kusto;
}

/** A query ARG would refuse: the message goes into ARG's error details. */
export class QueryError extends Error {
  constructor(
    readonly code:
      | 'ParserFailure'
      | 'UnsupportedQuery'
      | 'InvalidQuery'
      | 'DisallowedMaxNumberOfRemoteTables'
      | 'DisallowedMaxNumberOfJoins',
    message: string
  ) {
    super(message);
  }
}

export interface QueryResult {
  rows: Row[];
  columns: string[];
}

type Scalar = (row: Row) => unknown;
type Tabular = (tables: Tables) => QueryResult;

export interface CompiledQuery {
  run: Tabular;
  /** The tables the query reads, lower case: a caller need not build the others. */
  tables: ReadonlySet<string>;
}

/** Queries are few and repeated page after page: a small cache of compiled ones. */
const MAX_COMPILED = 64;
const compiledQueries = new Map<string, CompiledQuery>();

export function runQuery(query: string, tables: Tables): QueryResult {
  return compileQuery(query).run(tables);
}

/** Parses and compiles a query (or takes it from the cache); a parser failure is thrown, never cached. */
export function compileQuery(query: string): CompiledQuery {
  const cached = compiledQueries.get(query);
  if (cached) return cached;
  const code = parser().Language.KustoCode.Parse(query);
  const diagnostics = code.GetDiagnostics();
  if (diagnostics.Count > 0) {
    const d = diagnostics.getItem(0);
    throw new QueryError('ParserFailure', `Parser failure at position ${d.Start}: ${d.Message}`);
  }
  const statements = children(code.Syntax.Statements).map((s: Node) => s.Element);
  if (statements.length !== 1 || kind(statements[0]) !== 'ExpressionStatement') {
    throw new QueryError('UnsupportedQuery', 'Only a single tabular expression is supported');
  }
  const names = new Set<string>();
  const joins: Join[] = [];
  const compiled = { run: tabular(statements[0].Expression, names, joins), tables: names };
  checkJoinLimit(joins);
  if (compiledQueries.size >= MAX_COMPILED) compiledQueries.delete(compiledQueries.keys().next().value!);
  compiledQueries.set(query, compiled);
  return compiled;
}

/** A join of the query: the table its left side reads, and the one its right side reads. */
interface Join {
  left: string;
  right: string;
}

/**
 * The documented limit. The codes are Resource Graph's as far as they are known: the 400 and its
 * `InvalidQuery` detail follow the errors Microsoft's own issues quote; `DisallowedMaxNumberOfRemoteTables`
 * is the code users report for a query with too many other tables, but no Microsoft page publishes
 * it or its message, and `DisallowedMaxNumberOfJoins` is ours: both messages are modelled.
 */
function checkJoinLimit(joins: Join[]): void {
  if (joins.length > 3)
    throw new QueryError(
      'DisallowedMaxNumberOfJoins',
      `The query has ${joins.length} join operators; at most 3 are allowed in a single query.`
    );
  const cross = joins.filter(j => j.left !== j.right);
  const resourcesOnly = cross.every(
    j =>
      ['resources', 'resourcecontainers'].includes(j.left) &&
      ['resources', 'resourcecontainers'].includes(j.right)
  );
  if (cross.length > 1 && !resourcesOnly)
    throw new QueryError(
      'DisallowedMaxNumberOfRemoteTables',
      `The query joins ${cross.length} other tables (${cross.map(j => `${j.left} with ${j.right}`).join(', ')}); at most 1 cross-table join is allowed unless all are between Resources and ResourceContainers.`
    );
}

/** The table a tabular expression reads first (its pipeline's source). */
function sourceTable(node: Node): string {
  switch (kind(node)) {
    case 'NameReference':
      return String(node.SimpleName).toLowerCase();
    case 'ParenthesizedExpression':
      return sourceTable(node.Expression);
    case 'PipeExpression':
      return sourceTable(node.Expression);
    default:
      return '';
  }
}

function kind(node: Node): string {
  return String(node.constructor.$$name).replace('Kusto.Language.Syntax.', '');
}

function children(list: Node): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < list.ChildCount; i++) out.push(list.GetChild(i));
  return out;
}

/** Elements of a separated list (`a, b, c`). */
function elements(list: Node): Node[] {
  return children(list).map(c => c.Element);
}

/** A closure that refuses when reached, as the query would have been refused there. */
function refuse(code: QueryError['code'], message: string): () => never {
  return () => {
    throw new QueryError(code, message);
  };
}

/** The result of a compile-time step, or the error it would raise when reached. */
function attempt<T>(step: () => T): () => T {
  try {
    const value = step();
    return () => value;
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return () => {
      throw error;
    };
  }
}

function tabular(node: Node, names: Set<string>, joins: Join[]): Tabular {
  switch (kind(node)) {
    case 'NameReference': {
      const name = String(node.SimpleName).toLowerCase();
      const shown = String(node.SimpleName);
      names.add(name);
      return tables => {
        const rows = tables[name];
        if (!rows) throw new QueryError('InvalidQuery', `Table '${shown}' could not be found`);
        // No operator changes a row it is given (extend and join copy), so the rows need no copy.
        return { rows, columns: rows[0] ? Object.keys(rows[0]) : [] };
      };
    }
    case 'ParenthesizedExpression':
      return tabular(node.Expression, names, joins);
    case 'PipeExpression': {
      const input = tabular(node.Expression, names, joins);
      if (kind(node.Operator) === 'JoinOperator')
        joins.push({ left: sourceTable(node.Expression), right: sourceTable(node.Operator.Expression) });
      const op = operator(node.Operator, names, joins);
      return tables => op(input(tables), tables);
    }
    default:
      return refuse('UnsupportedQuery', `Unsupported tabular expression: ${kind(node)}`);
  }
}

type Operator = (input: QueryResult, tables: Tables) => QueryResult;

/** `name = expr` or a bare expression whose name follows from it; a nameless one throws when named. */
interface NamedExpression {
  name: () => string;
  value: Scalar;
}

function namedExpression(e: Node): NamedExpression {
  if (kind(e) === 'SimpleNamedExpression') {
    const name = String(e.Name.SimpleName);
    return { name: () => name, value: scalar(e.Expression) };
  }
  return { name: attempt(() => columnName(e)), value: scalar(e) };
}

function operator(op: Node, names: Set<string>, joins: Join[]): Operator {
  switch (kind(op)) {
    case 'FilterOperator': {
      const condition = scalar(op.Condition);
      return input => ({ ...input, rows: input.rows.filter(row => condition(row) === true) });
    }
    case 'ExtendOperator': {
      const exprs = elements(op.Expressions).map(namedExpression);
      const columnOf = elements(op.Expressions).map(e => attempt(() => columnName(e)));
      return input => {
        const columns = [...input.columns];
        const rows = input.rows.map(row => {
          const out = { ...row };
          for (const e of exprs) out[e.name()] = e.value(out);
          return out;
        });
        for (const name of columnOf) if (!columns.includes(name())) columns.push(name());
        return { rows, columns };
      };
    }
    case 'ProjectOperator': {
      const exprs = elements(op.Expressions);
      const columnOf = exprs.map(e => attempt(() => columnName(e)));
      const values = exprs.map(e => namedExpression(e).value);
      return input => {
        const columns = columnOf.map(name => name());
        const rows = input.rows.map(row => {
          const out: Row = {};
          for (let i = 0; i < values.length; i++) out[columns[i]!] = values[i]!(row);
          return out;
        });
        return { rows, columns };
      };
    }
    case 'SortOperator': {
      const keys = elements(op.Expressions).map(e => {
        const expr = kind(e) === 'OrderedExpression' ? e.Expression : e;
        const ordering =
          kind(e) === 'OrderedExpression' && e.Ordering
            ? String(e.Ordering.AscOrDescKeyword?.Text ?? 'desc')
            : 'desc';
        return { value: scalar(expr), desc: ordering.toLowerCase() !== 'asc' };
      });
      return input => {
        // Each key of a row is evaluated the first time a comparison needs it, then remembered:
        // the same evaluations (and errors) as evaluating it in every comparison, far fewer times.
        const entries = input.rows.map(row => ({ row, values: new Array<unknown>(keys.length) }));
        const valueOf = (e: (typeof entries)[number], i: number) =>
          i in e.values ? e.values[i] : (e.values[i] = keys[i]!.value(e.row));
        entries.sort((a, b) => {
          for (let i = 0; i < keys.length; i++) {
            const c = compare(valueOf(a, i), valueOf(b, i));
            if (c !== 0) return keys[i]!.desc ? -c : c;
          }
          return 0;
        });
        return { ...input, rows: entries.map(e => e.row) };
      };
    }
    case 'TakeOperator': {
      const count = scalar(op.Expression);
      return input => ({ ...input, rows: input.rows.slice(0, Number(count({}))) });
    }
    case 'JoinOperator':
      return join(op, names, joins);
    default:
      return refuse('UnsupportedQuery', `Unsupported operator: ${String(op.GetChild(0)?.Text ?? kind(op))}`);
  }
}

function join(op: Node, names: Set<string>, joins: Join[]): Operator {
  const joinKind = attempt(() => {
    let value = 'innerunique';
    for (const p of children(op.Parameters)) {
      if (String(p.Name.SimpleName).toLowerCase() === 'kind')
        value = String(scalar(p.Expression)({}) ?? p.Expression.GetChild(0)?.Text).toLowerCase();
    }
    if (!['inner', 'innerunique', 'leftouter'].includes(value))
      throw new QueryError('UnsupportedQuery', `Unsupported join kind: ${value}`);
    return value;
  });
  const rightSide = tabular(op.Expression, names, joins);
  const keys = attempt(() => {
    const conditions = elements(op.ConditionClause.Expressions);
    if (conditions.length !== 1)
      throw new QueryError('UnsupportedQuery', 'Only one join condition is supported');
    const condition = conditions[0];
    if (kind(condition) === 'NameReference') {
      const key = String(condition.SimpleName);
      return { leftKey: key, rightKey: key };
    }
    if (kind(condition) === 'BinaryExpression' && condition.Operator.Text === '==') {
      return {
        leftKey: String(condition.Left.Selector?.SimpleName ?? condition.Left.SimpleName),
        rightKey: String(condition.Right.Selector?.SimpleName ?? condition.Right.SimpleName)
      };
    }
    throw new QueryError('UnsupportedQuery', 'Unsupported join condition');
  });
  return (left, tables) => {
    const how = joinKind();
    const right = rightSide(tables);
    const { leftKey, rightKey } = keys();
    const index = new Map<string, Row[]>();
    for (const r of right.rows) {
      const key = joinKey(r[rightKey]);
      const list = index.get(key);
      if (list) list.push(r);
      else index.set(key, [r]);
    }
    // Columns of the right side that the left has already get a `1` suffix, as Kusto names them.
    const renamed = right.columns.map(c => [c, left.columns.includes(c) ? `${c}1` : c] as const);
    const rows: Row[] = [];
    for (const l of left.rows) {
      let matches = index.get(joinKey(l[leftKey])) ?? [];
      if (how === 'innerunique') matches = matches.slice(0, 1);
      if (matches.length === 0) {
        if (how === 'leftouter') {
          const out: Row = { ...l };
          for (const [, to] of renamed) out[to] = null;
          rows.push(out);
        }
        continue;
      }
      for (const m of matches) {
        const out: Row = { ...l };
        for (const [from, to] of renamed) out[to] = m[from] ?? null;
        rows.push(out);
      }
    }
    return { rows, columns: [...left.columns, ...renamed.map(([, to]) => to)] };
  };
}

/**
 * Values that join are equal as JSON: a string is keyed by itself behind a mark no JSON text starts
 * with (the common case, without JSON's escaping), anything else by its JSON.
 */
function joinKey(value: unknown): string {
  return typeof value === 'string' ? `s${value}` : JSON.stringify(value ?? null);
}

function columnName(e: Node): string {
  if (kind(e) === 'SimpleNamedExpression') return String(e.Name.SimpleName);
  if (kind(e) === 'NameReference') return String(e.SimpleName);
  if (kind(e) === 'PathExpression') return `${columnName(e.Expression)}_${e.Selector.SimpleName}`;
  throw new QueryError('UnsupportedQuery', 'A projected expression needs a name (name = expression)');
}

function scalar(node: Node): Scalar {
  switch (kind(node)) {
    case 'LiteralExpression': {
      const value = node.LiteralValue ?? null;
      return () => value;
    }
    case 'NameReference': {
      const name = String(node.SimpleName);
      return row => {
        if (!(name in row))
          throw new QueryError('InvalidQuery', `Failed to resolve scalar expression named '${name}'`);
        return row[name];
      };
    }
    case 'ParenthesizedExpression':
      return scalar(node.Expression);
    case 'PathExpression': {
      const base = scalar(node.Expression);
      const key = String(node.Selector.SimpleName);
      return row => member(base(row), key);
    }
    case 'ElementExpression': {
      const base = scalar(node.Expression);
      const selector = scalar(node.Selector.Expression);
      return row => {
        const value = base(row);
        return member(value, String(selector(row)));
      };
    }
    case 'FunctionCallExpression': {
      const fn = FUNCTIONS.get(String(node.Name.SimpleName).toLowerCase()) ?? unsupportedFunction(node);
      const args = elements(node.ArgumentList.Expressions).map(scalar);
      return row => fn(args.map(a => a(row)));
    }
    case 'BinaryExpression':
      return binary(String(node.Operator.Text).toLowerCase(), node);
    case 'InExpression': {
      const left = scalar(node.Left);
      const list = elements(node.Right.Expressions).map(scalar);
      const op = String(node.Operator.Text).toLowerCase();
      const caseless = op.includes('~');
      const negate = op === '!in' || op === '!in~';
      const known = negate || op === 'in' || op === 'in~';
      return row => {
        const value = left(row);
        const items = list.map(item => item(row));
        const found = items.some(item => equal(value, item, caseless));
        if (!known) throw new QueryError('UnsupportedQuery', `Unsupported operator: ${op}`);
        return negate ? !found : found;
      };
    }
    default:
      return refuse('UnsupportedQuery', `Unsupported expression: ${kind(node)}`);
  }
}

const COMPARISONS = new Map<string, (l: unknown, r: unknown) => boolean>([
  ['==', (l, r) => equal(l, r, false)],
  ['!=', (l, r) => !equal(l, r, false)],
  ['=~', (l, r) => equal(l, r, true)],
  ['!~', (l, r) => !equal(l, r, true)],
  ['contains', (l, r) => text(l).toLowerCase().includes(text(r).toLowerCase())],
  ['!contains', (l, r) => !text(l).toLowerCase().includes(text(r).toLowerCase())],
  ['<', (l, r) => compare(l, r) < 0],
  ['>', (l, r) => compare(l, r) > 0]
]);

function binary(op: string, node: Node): Scalar {
  const left = scalar(node.Left);
  const right = scalar(node.Right);
  if (op === 'and') return row => left(row) === true && right(row) === true;
  if (op === 'or') return row => left(row) === true || right(row) === true;
  const comparison = COMPARISONS.get(op);
  return row => {
    const l = left(row);
    const r = right(row);
    if (!comparison) throw new QueryError('UnsupportedQuery', `Unsupported operator: ${op}`);
    return comparison(l, r);
  };
}

const FUNCTIONS = new Map<string, (args: unknown[]) => unknown>([
  ['tostring', args => text(args[0])],
  ['todouble', toDouble],
  ['toreal', toDouble],
  ['tolower', args => text(args[0]).toLowerCase()],
  ['toupper', args => text(args[0]).toUpperCase()],
  ['isempty', args => text(args[0]) === ''],
  ['isnotempty', args => text(args[0]) !== ''],
  ['split', args => text(args[0]).split(text(args[1]))],
  ['hash', hash]
]);

/**
 * `hash(source, mod)`: "The output will be a value between 0 and mod - 1" (Kusto, "hash()"). Kusto
 * uses xxhash64 and says it may change; any stable, well-spread hash behaves the same for paging.
 */
function hash(args: unknown[]): unknown {
  const digest = createHash('sha1').update(text(args[0])).digest();
  const value = digest.readBigUInt64BE(0);
  if (args.length < 2) return Number(value >> 11n);
  const mod = Number(args[1]);
  if (!Number.isInteger(mod) || mod < 1)
    throw new QueryError('InvalidQuery', 'hash(): mod must be a positive integer');
  return Number(value % BigInt(mod));
}

function toDouble(args: unknown[]): unknown {
  const n = typeof args[0] === 'number' ? args[0] : Number.parseFloat(text(args[0]));
  return Number.isFinite(n) ? n : null;
}

function unsupportedFunction(node: Node): (args: unknown[]) => never {
  const name = String(node.Name.SimpleName).toLowerCase();
  return () => {
    throw new QueryError('UnsupportedQuery', `Unsupported function: ${name}()`);
  };
}

/** Dynamic member access: property names of dynamic bags compare exactly, as in Kusto. */
function member(base: unknown, key: string): unknown {
  if (base && typeof base === 'object' && !Array.isArray(base)) return (base as Row)[key] ?? null;
  if (Array.isArray(base) && /^\d+$/.test(key)) return base[Number(key)] ?? null;
  return null;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function equal(a: unknown, b: unknown, caseless: boolean): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  const x = text(a);
  const y = text(b);
  return caseless ? x.toLowerCase() === y.toLowerCase() : x === y;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = text(a);
  const y = text(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
