/**
 * API reference from TSDoc: `npm run docs` writes docs/api/ (one Markdown page per module group plus an
 * index); `npm run docs -- --check` exits 1 when the committed pages are stale.
 *
 *   tsx tools/api-docs.ts [--out DIR] [--check] [--entry FILE:TITLE:IMPORT ...]
 *
 * It reads the sources with a real TypeScript compiler API: the project's TypeScript 7 has none (it is a Go
 * binary) and typedoc is not installed, so it uses the TypeScript 5.0.4 fork that tslab (a devDependency)
 * ships as `@tslab/typescript-for-tslab`. Declarations are only read, not type-checked: the signatures are
 * the source text of each declaration (bodies dropped) and the prose is the TSDoc comment, tags included.
 *
 * Entries: each page documents one entry module's exports. For src/index.ts, every `export … from` line
 * becomes its own page (circuit, sim, qasm, …), in the order of that file; the other entries (modules the
 * root does not re-export, imported as `qpeft/<dir>` from notebooks) get one page each.
 * The output directory is replaced as a whole (written beside it, then renamed into place).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from '@tslab/typescript-for-tslab';

export interface Entry {
  /** Entry module, relative to the repository root. */
  file: string;
  /** Page title. */
  title: string;
  /** How users import it. */
  importPath: string;
  /** Split the page by `export … from` statements (for barrel files like src/index.ts). */
  split?: boolean;
}

export const DEFAULT_ENTRIES: readonly Entry[] = [
  { file: 'src/index.ts', title: 'qpeft', importPath: 'qpeft', split: true },
  // modules the root does not re-export (skipped automatically once it does)
  { file: 'src/plot/index.ts', title: 'plot', importPath: 'qpeft/plot' },
  { file: 'src/data/index.ts', title: 'data', importPath: 'qpeft/data' },
  { file: 'src/models/index.ts', title: 'models', importPath: 'qpeft/models' },
];

export interface DocItem {
  name: string;
  kind: 'function' | 'class' | 'interface' | 'type' | 'const' | 'enum' | 'namespace';
  /** Declaration text without bodies (one per overload). */
  signatures: string[];
  doc: string;
  /** Rendered `@tag text` lines (except those folded into `doc`). */
  tags: string[];
  /** Public members of a class: signature and first doc paragraph. */
  members: { signature: string; doc: string }[];
  source: string;
}

export interface DocPage {
  slug: string;
  title: string;
  importPath: string;
  module: string;
  summary: string;
  items: DocItem[];
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  noEmit: true,
  skipLibCheck: true,
  strict: true,
  types: [],
};

function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

function oneParagraph(text: string): string {
  return text
    .split(/\n\s*\n/)[0]!
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** The declaration's text with function and method bodies and initialisers of functions dropped. */
function declarationText(node: ts.Node, sf: ts.SourceFile): string {
  let end = node.getEnd();
  if (
    (ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) &&
    node.body
  ) {
    end = node.body.getStart(sf);
  }
  let text = sf.text.slice(node.getStart(sf), end).trim();
  text = text.replace(/^export\s+(default\s+)?/, '').replace(/^declare\s+/, '');
  return dedent(text);
}

function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => l.match(/^ */)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return [lines[0], ...lines.slice(1).map((l) => l.slice(Math.min(cut, l.match(/^ */)![0].length)))]
    .join('\n')
    .trimEnd();
}

/** A type as text, with `import("/abs/path").` qualifiers dropped (the names are in the reference). */
function typeText(checker: ts.TypeChecker, type: ts.Type): string {
  return checker
    .typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation)
    .replace(/import\("[^"]*"\)\./g, '');
}

function tagLines(symbol: ts.Symbol, checker: ts.TypeChecker): string[] {
  return symbol.getJsDocTags(checker).map((t) => {
    const text = ts
      .displayPartsToString(t.text)
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    return `@${t.name}${text ? ` ${text}` : ''}`;
  });
}

function kindOf(decl: ts.Declaration): DocItem['kind'] | null {
  if (ts.isFunctionDeclaration(decl)) return 'function';
  if (ts.isClassDeclaration(decl)) return 'class';
  if (ts.isInterfaceDeclaration(decl)) return 'interface';
  if (ts.isTypeAliasDeclaration(decl)) return 'type';
  if (ts.isVariableDeclaration(decl)) return 'const';
  if (ts.isEnumDeclaration(decl)) return 'enum';
  if (ts.isModuleDeclaration(decl)) return 'namespace';
  return null;
}

function isPublicMember(m: ts.ClassElement): boolean {
  const flags = ts.getCombinedModifierFlags(m as unknown as ts.Declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  if (m.name && ts.isPrivateIdentifier(m.name)) return false;
  return (
    ts.isMethodDeclaration(m) ||
    ts.isPropertyDeclaration(m) ||
    ts.isConstructorDeclaration(m) ||
    ts.isGetAccessorDeclaration(m) ||
    ts.isSetAccessorDeclaration(m)
  );
}

function documentSymbol(
  name: string,
  exported: ts.Symbol,
  checker: ts.TypeChecker,
  root: string,
): DocItem | null {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decls = (symbol.declarations ?? []).filter((d) => kindOf(d) !== null);
  if (decls.length === 0) return null;
  const first = decls[0]!;
  const sf = first.getSourceFile();
  const kind = kindOf(first)!;
  const signatures: string[] = [];
  const members: DocItem['members'] = [];
  for (const d of decls) {
    if (ts.isVariableDeclaration(d)) {
      const type = checker.getTypeOfSymbolAtLocation(symbol, d);
      let shown = d.type ? d.type.getText(sf) : typeText(checker, type);
      if (shown.length > 400) shown = `${shown.slice(0, 400)} …`;
      signatures.push(`const ${name}: ${shown}`);
    } else if (ts.isClassDeclaration(d)) {
      const heritage = d.heritageClauses?.map((h) => h.getText(sf)).join(' ');
      const typeParams = d.typeParameters ? `<${d.typeParameters.map((p) => p.getText(sf)).join(', ')}>` : '';
      const abstract = ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Abstract ? 'abstract ' : '';
      signatures.push(`${abstract}class ${name}${typeParams}${heritage ? ` ${heritage}` : ''}`);
      for (const m of d.members) {
        if (!isPublicMember(m)) continue;
        const msym = m.name ? checker.getSymbolAtLocation(m.name) : undefined;
        const mdoc = ts.isConstructorDeclaration(m)
          ? ts.displayPartsToString(checker.getSignatureFromDeclaration(m)?.getDocumentationComment(checker))
          : msym
            ? ts.displayPartsToString(msym.getDocumentationComment(checker))
            : '';
        let sig = declarationText(m, sf).replace(/;$/, '');
        if (ts.isPropertyDeclaration(m) && m.initializer && !m.type) {
          // show the type, not the initialiser
          const t = typeText(checker, checker.getTypeAtLocation(m));
          sig = sig.slice(0, m.initializer.getStart(sf) - m.getStart(sf)).replace(/\s*=\s*$/, '');
          sig = `${sig}: ${t}`;
        }
        members.push({ signature: sig, doc: oneParagraph(mdoc) });
      }
    } else if (ts.isFunctionDeclaration(d)) {
      // an implementation next to overloads is not part of the API
      if (d.body && decls.some((o) => o !== d && ts.isFunctionDeclaration(o) && !o.body)) continue;
      let text = declarationText(d, sf);
      if (!d.type) {
        const sig = checker.getSignatureFromDeclaration(d);
        if (sig) text += `: ${typeText(checker, checker.getReturnTypeOfSignature(sig))}`;
      }
      signatures.push(text);
    } else {
      signatures.push(declarationText(d, sf));
    }
  }
  const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const line = sf.getLineAndCharacterOfPosition(first.getStart(sf)).line + 1;
  return {
    name,
    kind,
    signatures,
    doc,
    tags: tagLines(symbol, checker),
    members,
    source: `${rel(root, sf.fileName)}:${line}`,
  };
}

function moduleSummary(sf: ts.SourceFile): string {
  // the file's leading /** … */ comment, when it is not attached to the first declaration
  const m = sf.text.match(/^\s*\/\*\*([\s\S]*?)\*\//);
  if (!m) return '';
  const first = sf.statements[0];
  if (first && !ts.isExportDeclaration(first) && !ts.isImportDeclaration(first)) {
    const jsDoc = (first as unknown as { jsDoc?: ts.JSDoc[] }).jsDoc;
    // one comment attached to the first declaration documents that declaration, not the module
    if (jsDoc?.length === 1 && jsDoc[0]!.getStart(sf) === sf.text.indexOf('/**')) return '';
  }
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function sortItems(items: DocItem[]): DocItem[] {
  return items.sort((a, b) => a.name.localeCompare(b.name, 'en'));
}

/** Read the entries and return one page per module group. */
export function collectPages(root: string, entries: readonly Entry[] = DEFAULT_ENTRIES): DocPage[] {
  const files = entries.map((e) => path.resolve(root, e.file));
  for (const f of files) if (!existsSync(f)) throw new Error(`api-docs: entry ${f} does not exist`);
  const program = ts.createProgram(files, COMPILER_OPTIONS);
  const checker = program.getTypeChecker();
  const pages: DocPage[] = [];
  const slugs = new Set<string>();
  const slugFor = (want: string) => {
    let s = want.replace(/[^a-z0-9-]+/gi, '-').toLowerCase();
    while (slugs.has(s)) s += '-';
    slugs.add(s);
    return s;
  };
  const reexported = new Set<string>();
  entries.forEach((entry, i) => {
    const sf = program.getSourceFile(files[i]!);
    if (!entry.split && reexported.has(path.resolve(files[i]!))) return;
    if (!sf) throw new Error(`api-docs: cannot read ${entry.file}`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) throw new Error(`api-docs: ${entry.file} is not a module`);
    if (!entry.split) {
      const items: DocItem[] = [];
      for (const s of checker.getExportsOfModule(moduleSymbol)) {
        const item = documentSymbol(s.name, s, checker, root);
        if (item) items.push(item);
      }
      pages.push({
        slug: slugFor(entry.title),
        title: entry.title,
        importPath: entry.importPath,
        module: entry.file,
        summary: moduleSummary(sf),
        items: sortItems(items),
      });
      return;
    }
    // a barrel: one page per `export … from '<module>'`; statements naming the same module merge
    const groups = new Map<string, { target: ts.SourceFile | undefined; names: Map<string, ts.Symbol> }>();
    for (const st of sf.statements) {
      if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier))
        continue;
      const spec = st.moduleSpecifier.text;
      const target = checker.getSymbolAtLocation(st.moduleSpecifier);
      const targetSf = target?.valueDeclaration?.getSourceFile();
      if (targetSf) reexported.add(path.resolve(targetSf.fileName));
      const key = spec.replace(/^\.\//, '').replace(/\/index\.ts$|\.ts$/, '');
      const group = groups.get(key) ?? { target: targetSf, names: new Map() };
      groups.set(key, group);
      if (!st.exportClause && target) {
        for (const s of checker.getExportsOfModule(target)) group.names.set(s.name, s);
      } else if (st.exportClause && ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) {
          const s = checker.getSymbolAtLocation(el.name);
          if (s) group.names.set(el.name.text, s);
        }
      }
    }
    for (const [key, group] of groups) {
      const items: DocItem[] = [];
      for (const [name, s] of group.names) {
        const item = documentSymbol(name, s, checker, root);
        if (item) items.push(item);
      }
      pages.push({
        slug: slugFor(key),
        title: key,
        importPath: entry.importPath,
        module: group.target ? rel(root, group.target.fileName) : key,
        summary: group.target ? moduleSummary(group.target) : '',
        items: sortItems(items),
      });
    }
  });
  return pages;
}

/** GitHub's heading anchors: lower-cased, punctuation dropped, repeats numbered -1, -2, … in order. */
function anchors(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const base = name
      .toLowerCase()
      .replace(/[^a-z0-9_ -]/g, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n}` : base;
  });
}

function renderDoc(doc: string): string {
  // TSDoc prose is Markdown already; keep it, but escape a leading # that would become a heading
  return doc.replace(/^#/gm, '\\#');
}

export function renderPage(page: DocPage): string {
  const out: string[] = [];
  out.push(`# ${page.title}`, '');
  out.push(`\`import { … } from '${page.importPath}'\` · source: \`${page.module}\``, '');
  if (page.summary) out.push(renderDoc(page.summary), '');
  out.push('| name | kind | summary |', '|---|---|---|');
  const ids = anchors([page.title, ...page.items.map((it) => it.name)]).slice(1);
  for (const [i, it] of page.items.entries()) {
    out.push(`| [\`${it.name}\`](#${ids[i]}) | ${it.kind} | ${oneParagraph(it.doc).replace(/\|/g, '\\|')} |`);
  }
  out.push('');
  for (const it of page.items) {
    out.push(`## ${it.name}`, '');
    out.push('```ts', ...it.signatures.flatMap((s, i) => (i ? ['', s] : [s])), '```', '');
    if (it.doc) out.push(renderDoc(it.doc), '');
    if (it.tags.length)
      out.push(
        ...it.tags.map((t) => `- \`${t.split(' ')[0]}\` ${t.slice(t.indexOf(' ') + 1 || t.length)}`),
        '',
      );
    if (it.members.length) {
      out.push('| member | |', '|---|---|');
      for (const m of it.members) {
        const sig = m.signature.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
        out.push(`| \`${sig}\` | ${m.doc.replace(/\|/g, '\\|')} |`);
      }
      out.push('');
    }
    out.push(`<sub>${it.source}</sub>`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function renderIndex(pages: readonly DocPage[]): string {
  const deep = pages.filter((p) => p.importPath !== 'qpeft');
  const out = [
    '# qpeft API reference',
    '',
    'Generated from the TSDoc comments of the sources by `npm run docs` (tools/api-docs.ts); do not edit.',
    '`npm run docs -- --check` fails when these pages are stale.',
    '',
    'The package root `qpeft` (src/index.ts) re-exports the modules of the pages marked `qpeft`.',
    ...(deep.length
      ? [
          `${deep.map((p) => `\`${p.importPath}\``).join(', ')}: not re-exported by the root; the notebooks import`,
          'them by these names (see notebooks/README.md), elsewhere import their `src/<dir>/index.ts`.',
        ]
      : []),
    '',
    '| page | import | exports | summary |',
    '|---|---|---:|---|',
  ];
  for (const p of pages) {
    out.push(
      `| [${p.title}](${p.slug}.md) | \`${p.importPath}\` | ${p.items.length} | ${oneParagraph(p.summary).replace(/\|/g, '\\|')} |`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** Every file of the reference: index.md and one page per group. */
export function renderAll(pages: readonly DocPage[]): Map<string, string> {
  const files = new Map<string, string>([['README.md', renderIndex(pages)]]);
  for (const p of pages) files.set(`${p.slug}.md`, renderPage(p));
  return files;
}

/** Replace `dir` by exactly `files` (written beside it, then renamed into place). */
export function writeDirAtomic(dir: string, files: Map<string, string>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(tmp, name), text);
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Names of the files in `dir` whose content differs from `files` (missing and extra files included). */
export function staleFiles(dir: string, files: Map<string, string>): string[] {
  const stale: string[] = [];
  const present = existsSync(dir) ? readdirSync(dir) : [];
  for (const [name, text] of files) {
    const p = path.join(dir, name);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) stale.push(name);
  }
  for (const name of present) if (!files.has(name)) stale.push(name);
  return stale.sort();
}

function main(argv: string[]): number {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  let out = path.join(root, 'docs', 'api');
  let check = false;
  const entries: Entry[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--check') check = true;
    else if (a === '--out') out = path.resolve(argv[++i] ?? '');
    else if (a === '--entry') {
      const [file, title, importPath] = (argv[++i] ?? '').split(':');
      if (!file || !title || !importPath) throw new Error('--entry FILE:TITLE:IMPORT');
      entries.push({ file, title, importPath });
    } else if (a === '-h' || a === '--help') {
      console.log('usage: tsx tools/api-docs.ts [--out DIR] [--check] [--entry FILE:TITLE:IMPORT ...]');
      return 0;
    } else {
      console.error(`api-docs: unknown argument ${a}`);
      return 2;
    }
  }
  const pages = collectPages(root, entries.length ? entries : DEFAULT_ENTRIES);
  const files = renderAll(pages);
  const count = pages.reduce((n, p) => n + p.items.length, 0);
  if (check) {
    const stale = staleFiles(out, files);
    if (stale.length) {
      console.error(`api-docs: ${rel(root, out)} is stale (${stale.join(', ')}); run npm run docs`);
      return 1;
    }
    console.log(`api-docs: ${rel(root, out)} is up to date (${pages.length} pages, ${count} exports)`);
    return 0;
  }
  writeDirAtomic(out, files);
  console.log(`api-docs: wrote ${rel(root, out)}/ (${pages.length} pages, ${count} exports)`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = main(process.argv.slice(2));
}
