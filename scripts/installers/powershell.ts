/**
 * Reads a PowerShell script with a real PowerShell grammar (tree-sitter-powershell, as
 * WebAssembly through web-tree-sitter: no PowerShell needed) and reports its syntax errors, the
 * commands it calls with the parameters it names, and the .NET types it names.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';

export interface Place {
  line: number;
  column: number;
}
export interface CommandUse extends Place {
  name: string;
  /** Named parameters without their dash, as written (`-LiteralPath` → `LiteralPath`). */
  parameters: string[];
  /** The first argument that is not a parameter (New-Object's type name), if any. */
  firstArgument?: string;
}
export interface PowerShellScript {
  syntaxErrors: (Place & { message: string })[];
  /** Calls of named commands; `& $variable` calls of programs are left out. */
  commands: CommandUse[];
  /** Types in `[...]` (casts, static members, parameter types) and attribute names. */
  types: (Place & { name: string })[];
  /** Functions the script defines itself. */
  functions: string[];
  /** The keys of every `@{ ... }` literal assigned to a variable, by variable name. */
  hashtables: Map<string, string[]>;
}

let parser: Promise<Parser> | undefined;

function powershellParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
    const created = new Parser();
    created.setLanguage(await Language.load(wasm));
    return created;
  })();
  return parser;
}

const place = (node: Node): Place => ({
  line: node.startPosition.row + 1,
  column: node.startPosition.column + 1
});

export async function readPowerShell(source: string): Promise<PowerShellScript> {
  const tree = (await powershellParser()).parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  const script: PowerShellScript = {
    syntaxErrors: [],
    commands: [],
    types: [],
    functions: [],
    hashtables: new Map()
  };

  const visit = (node: Node): void => {
    if (node.isMissing) {
      script.syntaxErrors.push({ ...place(node), message: `missing ${node.type}` });
      return;
    }
    if (node.isError) {
      const text = node.text.split('\n')[0]!.slice(0, 60);
      script.syntaxErrors.push({
        ...place(node),
        message: `cannot parse from here: ${JSON.stringify(text)}`
      });
      return;
    }
    switch (node.type) {
      case 'command': {
        const name = node.childForFieldName('command_name');
        if (name?.type === 'command_name') {
          const elements = node.childForFieldName('command_elements')?.namedChildren ?? [];
          const firstArgument = elements.find(
            e => e && e.type !== 'command_argument_sep' && e.type !== 'command_parameter'
          );
          script.commands.push({
            ...place(name),
            name: name.text,
            parameters: elements
              .filter(e => e?.type === 'command_parameter')
              .map(e => e!.text.replace(/^-/, '').replace(/:$/, '')),
            firstArgument: firstArgument?.text
          });
        }
        break;
      }
      case 'type_literal':
        script.types.push({ ...place(node), name: node.text.replace(/^\[|\]$/g, '').trim() });
        break;
      case 'attribute': {
        const name = node.namedChildren.find(c => c?.type === 'attribute_name');
        if (name) script.types.push({ ...place(name), name: name.text });
        break;
      }
      case 'function_statement': {
        const name = node.namedChildren.find(c => c?.type === 'function_name');
        if (name) script.functions.push(name.text);
        break;
      }
      case 'assignment_expression': {
        const target = node.namedChildren[0]?.text.replace(/^\$/, '');
        const table = node.descendantsOfType('hash_literal_expression')[0];
        if (target && table)
          script.hashtables.set(
            target,
            table.descendantsOfType('key_expression').map(k => k!.text)
          );
        break;
      }
    }
    for (const child of node.namedChildren) if (child) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return script;
}
