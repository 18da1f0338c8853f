/**
 * Resource Graph queries, evaluated for real over the emulated tables. Parsing is Microsoft's own
 * (Kusto.Language via @kusto/language-service-next); evaluation covers the subset the action uses
 * — `where` (== != =~ !~ in in~ !in~ contains and or), `extend`, `project`, `order by`/`sort by`,
 * `take`/`limit`, `join kind=inner|leftouter`, tostring/todouble/tolower/toupper/isempty/isnotempty,
 * property paths and `tags['x']`. Anything else is refused as ARG refuses a bad query, never ignored.
 */
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
    readonly code: 'ParserFailure' | 'UnsupportedQuery' | 'InvalidQuery',
    message: string
  ) {
    super(message);
  }
}

export interface QueryResult {
  rows: Row[];
  columns: string[];
}

export function runQuery(query: string, tables: Tables): QueryResult {
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
  return tabular(statements[0].Expression, tables);
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

function tabular(node: Node, tables: Tables): QueryResult {
  switch (kind(node)) {
    case 'NameReference': {
      const name = String(node.SimpleName).toLowerCase();
      const rows = tables[name];
      if (!rows) throw new QueryError('InvalidQuery', `Table '${node.SimpleName}' could not be found`);
      return { rows: rows.map(r => ({ ...r })), columns: rows[0] ? Object.keys(rows[0]) : [] };
    }
    case 'ParenthesizedExpression':
      return tabular(node.Expression, tables);
    case 'PipeExpression':
      return operator(node.Operator, tabular(node.Expression, tables), tables);
    default:
      throw new QueryError('UnsupportedQuery', `Unsupported tabular expression: ${kind(node)}`);
  }
}

function operator(op: Node, input: QueryResult, tables: Tables): QueryResult {
  switch (kind(op)) {
    case 'FilterOperator':
      return { ...input, rows: input.rows.filter(row => truthy(scalar(op.Condition, row))) };
    case 'ExtendOperator': {
      const columns = [...input.columns];
      const rows = input.rows.map(row => {
        const out = { ...row };
        for (const e of elements(op.Expressions)) {
          const [name, value] = named(e, out, columns.length);
          out[name] = value;
        }
        return out;
      });
      for (const e of elements(op.Expressions))
        if (!columns.includes(columnName(e))) columns.push(columnName(e));
      return { rows, columns };
    }
    case 'ProjectOperator': {
      const exprs = elements(op.Expressions);
      const columns = exprs.map(e => columnName(e));
      const rows = input.rows.map(row => {
        const out: Row = {};
        exprs.forEach((e, i) => (out[columns[i]!] = named(e, row, i)[1]));
        return out;
      });
      return { rows, columns };
    }
    case 'SortOperator': {
      const keys = elements(op.Expressions).map(e => {
        const expr = kind(e) === 'OrderedExpression' ? e.Expression : e;
        const ordering =
          kind(e) === 'OrderedExpression' && e.Ordering
            ? String(e.Ordering.AscOrDescKeyword?.Text ?? 'desc')
            : 'desc';
        return { expr, desc: ordering.toLowerCase() !== 'asc' };
      });
      const rows = [...input.rows].sort((a, b) => {
        for (const k of keys) {
          const c = compare(scalar(k.expr, a), scalar(k.expr, b));
          if (c !== 0) return k.desc ? -c : c;
        }
        return 0;
      });
      return { ...input, rows };
    }
    case 'TakeOperator': {
      const n = Number(scalar(op.Expression, {}));
      return { ...input, rows: input.rows.slice(0, n) };
    }
    case 'JoinOperator':
      return join(op, input, tables);
    default:
      throw new QueryError(
        'UnsupportedQuery',
        `Unsupported operator: ${String(op.GetChild(0)?.Text ?? kind(op))}`
      );
  }
}

function join(op: Node, left: QueryResult, tables: Tables): QueryResult {
  let joinKind = 'innerunique';
  for (const p of children(op.Parameters)) {
    if (String(p.Name.SimpleName).toLowerCase() === 'kind')
      joinKind = String(scalar(p.Expression, {}) ?? p.Expression.GetChild(0)?.Text).toLowerCase();
  }
  if (!['inner', 'innerunique', 'leftouter'].includes(joinKind))
    throw new QueryError('UnsupportedQuery', `Unsupported join kind: ${joinKind}`);
  const right = tabular(op.Expression, tables);
  const conditions = elements(op.ConditionClause.Expressions);
  if (conditions.length !== 1)
    throw new QueryError('UnsupportedQuery', 'Only one join condition is supported');
  const condition = conditions[0];
  let leftKey: string;
  let rightKey: string;
  if (kind(condition) === 'NameReference') {
    leftKey = rightKey = String(condition.SimpleName);
  } else if (kind(condition) === 'BinaryExpression' && condition.Operator.Text === '==') {
    leftKey = String(condition.Left.Selector?.SimpleName ?? condition.Left.SimpleName);
    rightKey = String(condition.Right.Selector?.SimpleName ?? condition.Right.SimpleName);
  } else {
    throw new QueryError('UnsupportedQuery', 'Unsupported join condition');
  }
  const index = new Map<string, Row[]>();
  for (const r of right.rows) {
    const key = JSON.stringify(r[rightKey] ?? null);
    if (!index.has(key)) index.set(key, []);
    index.get(key)!.push(r);
  }
  // Columns of the right side that the left has already get a `1` suffix, as Kusto names them.
  const rename = (name: string) => (left.columns.includes(name) ? `${name}1` : name);
  const rows: Row[] = [];
  for (const l of left.rows) {
    let matches = index.get(JSON.stringify(l[leftKey] ?? null)) ?? [];
    if (joinKind === 'innerunique') matches = matches.slice(0, 1);
    if (matches.length === 0) {
      if (joinKind === 'leftouter')
        rows.push({ ...l, ...Object.fromEntries(right.columns.map(c => [rename(c), null])) });
      continue;
    }
    for (const m of matches)
      rows.push({ ...l, ...Object.fromEntries(right.columns.map(c => [rename(c), m[c] ?? null])) });
  }
  return { rows, columns: [...left.columns, ...right.columns.map(rename)] };
}

function columnName(e: Node): string {
  if (kind(e) === 'SimpleNamedExpression') return String(e.Name.SimpleName);
  if (kind(e) === 'NameReference') return String(e.SimpleName);
  if (kind(e) === 'PathExpression') return `${columnName(e.Expression)}_${e.Selector.SimpleName}`;
  throw new QueryError('UnsupportedQuery', 'A projected expression needs a name (name = expression)');
}

function named(e: Node, row: Row, _index: number): [string, unknown] {
  if (kind(e) === 'SimpleNamedExpression') return [String(e.Name.SimpleName), scalar(e.Expression, row)];
  return [columnName(e), scalar(e, row)];
}

function scalar(node: Node, row: Row): unknown {
  switch (kind(node)) {
    case 'LiteralExpression':
      return node.LiteralValue ?? null;
    case 'NameReference': {
      const name = String(node.SimpleName);
      if (!(name in row))
        throw new QueryError('InvalidQuery', `Failed to resolve scalar expression named '${name}'`);
      return row[name];
    }
    case 'ParenthesizedExpression':
      return scalar(node.Expression, row);
    case 'PathExpression': {
      const base = scalar(node.Expression, row);
      return member(base, String(node.Selector.SimpleName));
    }
    case 'ElementExpression': {
      const base = scalar(node.Expression, row);
      return member(base, String(scalar(node.Selector.Expression, row)));
    }
    case 'FunctionCallExpression':
      return call(
        String(node.Name.SimpleName).toLowerCase(),
        elements(node.ArgumentList.Expressions).map(a => scalar(a, row))
      );
    case 'BinaryExpression':
      return binary(String(node.Operator.Text).toLowerCase(), node, row);
    case 'InExpression': {
      const value = scalar(node.Left, row);
      const list = elements(node.Right.Expressions).map(e => scalar(e, row));
      const op = String(node.Operator.Text).toLowerCase();
      const caseless = op.includes('~');
      const found = list.some(item => equal(value, item, caseless));
      if (op === 'in' || op === 'in~') return found;
      if (op === '!in' || op === '!in~') return !found;
      throw new QueryError('UnsupportedQuery', `Unsupported operator: ${op}`);
    }
    default:
      throw new QueryError('UnsupportedQuery', `Unsupported expression: ${kind(node)}`);
  }
}

function binary(op: string, node: Node, row: Row): unknown {
  if (op === 'and') return truthy(scalar(node.Left, row)) && truthy(scalar(node.Right, row));
  if (op === 'or') return truthy(scalar(node.Left, row)) || truthy(scalar(node.Right, row));
  const l = scalar(node.Left, row);
  const r = scalar(node.Right, row);
  switch (op) {
    case '==':
      return equal(l, r, false);
    case '!=':
      return !equal(l, r, false);
    case '=~':
      return equal(l, r, true);
    case '!~':
      return !equal(l, r, true);
    case 'contains':
      return text(l).toLowerCase().includes(text(r).toLowerCase());
    case '!contains':
      return !text(l).toLowerCase().includes(text(r).toLowerCase());
    case '<':
      return compare(l, r) < 0;
    case '>':
      return compare(l, r) > 0;
    default:
      throw new QueryError('UnsupportedQuery', `Unsupported operator: ${op}`);
  }
}

function call(name: string, args: unknown[]): unknown {
  switch (name) {
    case 'tostring':
      return text(args[0]);
    case 'todouble':
    case 'toreal': {
      const n = typeof args[0] === 'number' ? args[0] : Number.parseFloat(text(args[0]));
      return Number.isFinite(n) ? n : null;
    }
    case 'tolower':
      return text(args[0]).toLowerCase();
    case 'toupper':
      return text(args[0]).toUpperCase();
    case 'isempty':
      return text(args[0]) === '';
    case 'isnotempty':
      return text(args[0]) !== '';
    case 'split':
      return text(args[0]).split(text(args[1]));
    default:
      throw new QueryError('UnsupportedQuery', `Unsupported function: ${name}()`);
  }
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

function truthy(value: unknown): boolean {
  return value === true;
}
